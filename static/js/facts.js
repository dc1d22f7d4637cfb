// What is said under a poem: form, rhyme group, score, the checks and the faults, each with its meaning.

import { element } from "./dom.js";

// The checks the model server reports, in the order shown, with what each one means to a newcomer.
const CHECKS = {
  well_formed: ["合式", "句数、每句字数与标点合乎诗体"],
  kept: ["存原句", "你给的字（开头或藏头字）都原样留在诗里"],
  rhyme: ["押韵", "该押韵的句子句末同属平水韵的一个韵部"],
  meter: ["粘对", "每句二、四（六）字平仄交替，一联上下句相对，两联之间相粘"],
  strict_meter: ["严格格律", "每一个字都合律诗的平仄谱，不只二、四、六字：「一三五不论」的字也守谱"],
  no_repeat: ["不重复", "不重句、不重韵，除叠字外不重字"],
  no_copy: ["非抄录", "没有一句与训练所用的唐宋诗句一字不差"],
};
// A 词 is checked against its tune (词谱) and rhymes by 词林正韵: those checks are said so.
const TUNE_CHECKS = {
  well_formed: ["合式", "句数、每句字数与标点合乎词牌"],
  rhyme: ["押韵", "该押韵的句子句末同属词林正韵的一部（换韵的词各段各押一部）"],
  meter: ["合谱", "每字平仄合词谱：谱中可平可仄之处不论"],
};
const SCORE = "得分：模型写下每个字的平均对数概率。越接近 0，模型越觉得通顺（常在 −2 到 −4 之间）；只宜比较同一诗体的诗";
// The words the page uses, for the glossary under the poems.
const GLOSSARY = [
  ["○ ● ◐", "字上的小记号：○ 平声，● 仄声，◐ 可平可仄（多音字两读皆可），？ 声调不明"],
  ["韵", "红圈的字是韵脚；「下平七阳韵」之类是平水韵的韵部"],
  ["得分", SCORE.slice(3)],
  ...Object.values(CHECKS).map(([label, meaning]) => [label, meaning]),
  ["平韵 / 仄韵", "韵脚用平声字（近体诗的常例）或仄声字"],
  ["自动", "不指定诗体，由模型按方式选定：藏头看字数，续写看开头；选中「自动」时，提示会说它写哪一种"],
  ["词牌", "词的曲调名，定下句数、每句字数、平仄与韵脚；单调一段，双调分上阕、下阕。可在「词牌」框里搜索"],
];
// Where the user gave no characters of the poem, "kept" says nothing: it is left out.
function checksNode(poem, given, tune) {
  const checks = element("ul", "checks");
  for (const [name, said] of Object.entries(CHECKS)) {
    const [label, meaning] = (tune && TUNE_CHECKS[name]) || said;
    if (!(name in poem.constraints) || (name === "kept" && !given?.size)) continue;
    const held = poem.constraints[name];
    const item = element("li", held ? "held" : "broken", `${held ? "✓" : "✗"} ${label}`);
    item.title = meaning;
    checks.append(item);
  }
  return checks;
}

/** The rules a poem breaks, line by line: 第3句失粘 (你的原句), described from /api/info's rules. */
function faultsNode(faults, rules) {
  const list = element("ul", "faults");
  for (const fault of faults) {
    const item = element("li", fault.user ? "fault user" : "fault", `第${fault.line}句${fault.rule}${fault.user ? "（你的原句）" : ""}`);
    item.title = rules?.[fault.rule]?.zh || fault.rule;
    list.append(item);
  }
  return list;
}

/** The summary line, the checks and the faults of a finished poem (given: the user's characters in it;
 * tune: a 词's, from /api/info). */
export function factsNodes(poem, { form, given, rules, tune }) {
  const facts = element("p", "summary");
  // An opening that filled its form (a last line edited) comes back with nothing written and score 0:
  // a mean log-probability of written characters is always below 0.
  const written = poem.score !== 0;
  const score = element("span", "score", written ? `得分 ${poem.score.toFixed(2)}` : "无新句");
  score.title = written ? SCORE : "整首都是你给的字，模型只标平仄与韵";
  const formNode = element("span", "form", tune ? `${form} · ${tune.stanzas.length > 1 ? "双调" : "单调"}` : form);
  if (tune) formNode.title = `词牌 ${form}：${tune.pattern}，${tune.characters} 字`;
  facts.append(formNode, element("span", "rhyme-group", poem.rhyme_group ? `${poem.rhyme_group}韵` : "未押韵"), score);
  const nodes = [facts, checksNode(poem, given, tune)];
  if (poem.faults?.length) nodes.push(faultsNode(poem.faults, rules));
  return nodes;
}

/** The glossary's entries as a definition list. */
export function glossaryNode() {
  const list = element("dl", "glossary-list");
  for (const [term, meaning] of GLOSSARY) list.append(element("dt", "", term), element("dd", "", meaning));
  return list;
}
