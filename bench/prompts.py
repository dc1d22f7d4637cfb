"""Prompts the benchmarks cycle through: openings, acrostic heads and themes."""

from __future__ import annotations

OPENINGS = {
    5: [
        "白日依山尽，",
        "空山不见人，",
        "国破山河在，",
        "独坐幽篁里，",
        "春眠不觉晓，",
        "千山鸟飞绝，",
        "松下问童子，",
        "移舟泊烟渚，",
        "故人具鸡黍，",
        "海上生明月",
    ],
    7: [
        "两岸猿声啼不住，",
        "故人西辞黄鹤楼，",
        "月落乌啼霜满天，",
        "独在异乡为异客，",
        "少小离家老大回，",
        "朝辞白帝彩云间，",
        "葡萄美酒夜光杯，",
        "黄河远上白云间，",
        "春风得意马蹄疾，",
        "停车坐爱枫林晚",
    ],
}
HEADS = [
    "春夏秋冬",
    "山高水长",
    "明月清风",
    "花好月圆",
    "一帆风顺",
    "天道酬勤",
    "江山如画",
    "风花雪月春江夜",
    "国泰民安年年好",
    "金玉满堂福寿长",
]
THEMES = [
    "秋夜思乡",
    "送别友人",
    "春日登山",
    "雨后江边",
    "边塞风雪",
    "月下独酌",
    "故园梅花",
    "早朝宫阙",
    "渔舟唱晚",
    "城市的夜晚灯火",
]


def prompt(mode: str, width: int, lines: int, index: int) -> str:
    """The index-th prompt of a mode, fitted to the form."""
    if mode == "continue":
        return OPENINGS[width][index % len(OPENINGS[width])]
    if mode == "acrostic":
        heads = [h for h in HEADS if len(h) <= lines]
        return heads[index % len(heads)][:lines]
    if mode == "theme":
        return THEMES[index % len(THEMES)]
    return ""
