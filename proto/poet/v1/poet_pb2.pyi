from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GenerateRequest(_message.Message):
    __slots__ = ("mode", "form", "text", "n", "seed", "temperature", "top_k", "top_p", "repetition_penalty", "rhyme", "rhyme_first_line", "meter", "strict_meter", "no_repeat", "no_copy", "rhyme_tone")
    MODE_FIELD_NUMBER: _ClassVar[int]
    FORM_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    REPETITION_PENALTY_FIELD_NUMBER: _ClassVar[int]
    RHYME_FIELD_NUMBER: _ClassVar[int]
    RHYME_FIRST_LINE_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    STRICT_METER_FIELD_NUMBER: _ClassVar[int]
    NO_REPEAT_FIELD_NUMBER: _ClassVar[int]
    NO_COPY_FIELD_NUMBER: _ClassVar[int]
    RHYME_TONE_FIELD_NUMBER: _ClassVar[int]
    mode: str
    form: str
    text: str
    n: int
    seed: int
    temperature: float
    top_k: int
    top_p: float
    repetition_penalty: float
    rhyme: bool
    rhyme_first_line: bool
    meter: bool
    strict_meter: bool
    no_repeat: bool
    no_copy: bool
    rhyme_tone: str
    def __init__(self, mode: _Optional[str] = ..., form: _Optional[str] = ..., text: _Optional[str] = ..., n: _Optional[int] = ..., seed: _Optional[int] = ..., temperature: _Optional[float] = ..., top_k: _Optional[int] = ..., top_p: _Optional[float] = ..., repetition_penalty: _Optional[float] = ..., rhyme: _Optional[bool] = ..., rhyme_first_line: _Optional[bool] = ..., meter: _Optional[bool] = ..., strict_meter: _Optional[bool] = ..., no_repeat: _Optional[bool] = ..., no_copy: _Optional[bool] = ..., rhyme_tone: _Optional[str] = ...) -> None: ...

class Fault(_message.Message):
    __slots__ = ("line", "rule", "user")
    LINE_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    line: int
    rule: str
    user: bool
    def __init__(self, line: _Optional[int] = ..., rule: _Optional[str] = ..., user: _Optional[bool] = ...) -> None: ...

class Poem(_message.Message):
    __slots__ = ("text", "lines", "score", "rhyme_group", "tones", "rhyme_positions", "constraints", "faults")
    class ConstraintsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bool
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bool] = ...) -> None: ...
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    RHYME_GROUP_FIELD_NUMBER: _ClassVar[int]
    TONES_FIELD_NUMBER: _ClassVar[int]
    RHYME_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    text: str
    lines: _containers.RepeatedScalarFieldContainer[str]
    score: float
    rhyme_group: str
    tones: _containers.RepeatedScalarFieldContainer[str]
    rhyme_positions: _containers.RepeatedScalarFieldContainer[int]
    constraints: _containers.ScalarMap[str, bool]
    faults: _containers.RepeatedCompositeFieldContainer[Fault]
    def __init__(self, text: _Optional[str] = ..., lines: _Optional[_Iterable[str]] = ..., score: _Optional[float] = ..., rhyme_group: _Optional[str] = ..., tones: _Optional[_Iterable[str]] = ..., rhyme_positions: _Optional[_Iterable[int]] = ..., constraints: _Optional[_Mapping[str, bool]] = ..., faults: _Optional[_Iterable[_Union[Fault, _Mapping]]] = ...) -> None: ...

class GenerateReply(_message.Message):
    __slots__ = ("form", "mode", "poems", "keywords", "elapsed_ms", "left_out")
    FORM_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    POEMS_FIELD_NUMBER: _ClassVar[int]
    KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    LEFT_OUT_FIELD_NUMBER: _ClassVar[int]
    form: str
    mode: str
    poems: _containers.RepeatedCompositeFieldContainer[Poem]
    keywords: _containers.RepeatedScalarFieldContainer[str]
    elapsed_ms: float
    left_out: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, form: _Optional[str] = ..., mode: _Optional[str] = ..., poems: _Optional[_Iterable[_Union[Poem, _Mapping]]] = ..., keywords: _Optional[_Iterable[str]] = ..., elapsed_ms: _Optional[float] = ..., left_out: _Optional[_Iterable[str]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("index", "text")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    index: int
    text: str
    def __init__(self, index: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class GenerateStreamReply(_message.Message):
    __slots__ = ("progress", "done")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    done: GenerateReply
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., done: _Optional[_Union[GenerateReply, _Mapping]] = ...) -> None: ...

class GetInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetInfoReply(_message.Message):
    __slots__ = ("model_name", "model_version", "vocab_size", "forms", "modes", "max_candidates", "max_text", "max_batch", "max_queue", "rhyme_tones", "rules", "tunes", "fields", "form_shapes", "auto_forms")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    FORMS_FIELD_NUMBER: _ClassVar[int]
    MODES_FIELD_NUMBER: _ClassVar[int]
    MAX_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    MAX_TEXT_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_FIELD_NUMBER: _ClassVar[int]
    RHYME_TONES_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    TUNES_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FORM_SHAPES_FIELD_NUMBER: _ClassVar[int]
    AUTO_FORMS_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    model_version: str
    vocab_size: int
    forms: _containers.RepeatedScalarFieldContainer[str]
    modes: _containers.RepeatedScalarFieldContainer[str]
    max_candidates: int
    max_text: int
    max_batch: int
    max_queue: int
    rhyme_tones: _containers.RepeatedScalarFieldContainer[str]
    rules: _containers.RepeatedCompositeFieldContainer[Rule]
    tunes: _containers.RepeatedCompositeFieldContainer[Tune]
    fields: _containers.RepeatedCompositeFieldContainer[RequestField]
    form_shapes: _containers.RepeatedCompositeFieldContainer[Tune]
    auto_forms: _containers.RepeatedCompositeFieldContainer[AutoForm]
    def __init__(self, model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., vocab_size: _Optional[int] = ..., forms: _Optional[_Iterable[str]] = ..., modes: _Optional[_Iterable[str]] = ..., max_candidates: _Optional[int] = ..., max_text: _Optional[int] = ..., max_batch: _Optional[int] = ..., max_queue: _Optional[int] = ..., rhyme_tones: _Optional[_Iterable[str]] = ..., rules: _Optional[_Iterable[_Union[Rule, _Mapping]]] = ..., tunes: _Optional[_Iterable[_Union[Tune, _Mapping]]] = ..., fields: _Optional[_Iterable[_Union[RequestField, _Mapping]]] = ..., form_shapes: _Optional[_Iterable[_Union[Tune, _Mapping]]] = ..., auto_forms: _Optional[_Iterable[_Union[AutoForm, _Mapping]]] = ...) -> None: ...

class AutoForm(_message.Message):
    __slots__ = ("mode", "width", "lines", "form")
    MODE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    FORM_FIELD_NUMBER: _ClassVar[int]
    mode: str
    width: int
    lines: int
    form: str
    def __init__(self, mode: _Optional[str] = ..., width: _Optional[int] = ..., lines: _Optional[int] = ..., form: _Optional[str] = ...) -> None: ...

class RequestField(_message.Message):
    __slots__ = ("name", "type", "default_json", "zh", "en", "minimum", "maximum", "above_minimum", "choices", "nullable", "labels")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_JSON_FIELD_NUMBER: _ClassVar[int]
    ZH_FIELD_NUMBER: _ClassVar[int]
    EN_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    ABOVE_MINIMUM_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    NULLABLE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    default_json: str
    zh: str
    en: str
    minimum: float
    maximum: float
    above_minimum: bool
    choices: _containers.RepeatedScalarFieldContainer[str]
    nullable: bool
    labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., default_json: _Optional[str] = ..., zh: _Optional[str] = ..., en: _Optional[str] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ..., above_minimum: _Optional[bool] = ..., choices: _Optional[_Iterable[str]] = ..., nullable: _Optional[bool] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...

class Tune(_message.Message):
    __slots__ = ("name", "pattern", "line_lengths", "stanzas", "characters", "marks", "repeats")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    LINE_LENGTHS_FIELD_NUMBER: _ClassVar[int]
    STANZAS_FIELD_NUMBER: _ClassVar[int]
    CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    MARKS_FIELD_NUMBER: _ClassVar[int]
    REPEATS_FIELD_NUMBER: _ClassVar[int]
    name: str
    pattern: str
    line_lengths: _containers.RepeatedScalarFieldContainer[int]
    stanzas: _containers.RepeatedScalarFieldContainer[int]
    characters: int
    marks: _containers.RepeatedScalarFieldContainer[str]
    repeats: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., pattern: _Optional[str] = ..., line_lengths: _Optional[_Iterable[int]] = ..., stanzas: _Optional[_Iterable[int]] = ..., characters: _Optional[int] = ..., marks: _Optional[_Iterable[str]] = ..., repeats: _Optional[_Iterable[int]] = ...) -> None: ...

class Rule(_message.Message):
    __slots__ = ("name", "constraint", "zh", "en")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINT_FIELD_NUMBER: _ClassVar[int]
    ZH_FIELD_NUMBER: _ClassVar[int]
    EN_FIELD_NUMBER: _ClassVar[int]
    name: str
    constraint: str
    zh: str
    en: str
    def __init__(self, name: _Optional[str] = ..., constraint: _Optional[str] = ..., zh: _Optional[str] = ..., en: _Optional[str] = ...) -> None: ...
