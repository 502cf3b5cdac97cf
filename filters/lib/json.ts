// A small JSON reader for filter configurations. AssemblyScript 0.17 ships
// no JSON support, and configurations are tiny, so a straightforward
// recursive-descent parser over the decoded UTF-16 string is plenty.

export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

// One parsed JSON value. AssemblyScript has no union types, so a single
// class carries every kind; only the fields matching `kind` are meaningful.
export class JsonValue {
  kind: JsonKind;
  // String contents, or the source text of a number (so "8080" stays "8080"
  // when a number is used where a string is expected).
  text: string = "";
  num: f64 = 0;
  flag: bool = false;
  // Array elements.
  items: Array<JsonValue> = [];
  // Object members, in source order (parallel arrays).
  keys: Array<string> = [];
  values: Array<JsonValue> = [];

  constructor(kind: JsonKind) {
    this.kind = kind;
  }

  isNull(): bool { return this.kind == JsonKind.Null; }
  isBool(): bool { return this.kind == JsonKind.Bool; }
  isNumber(): bool { return this.kind == JsonKind.Number; }
  isString(): bool { return this.kind == JsonKind.String; }
  isArray(): bool { return this.kind == JsonKind.Array; }
  isObject(): bool { return this.kind == JsonKind.Object; }

  // Member lookup on an object; the last duplicate key wins, like JSON.parse.
  get(key: string): JsonValue | null {
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.values[i];
    }
    return null;
  }

  // Whether a number is an integer within [min, max].
  isIntegerIn(min: f64, max: f64): bool {
    return this.isNumber() && Math.floor(this.num) == this.num && this.num >= min && this.num <= max;
  }

  // Scalars rendered as text (for header values etc.); "" for containers/null.
  scalarText(): string {
    if (this.isString() || this.isNumber()) return this.text;
    if (this.isBool()) return this.flag ? "true" : "false";
    return "";
  }

  kindName(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return "boolean";
      case JsonKind.Number: return "number";
      case JsonKind.String: return "string";
      case JsonKind.Array: return "array";
      default: return "object";
    }
  }
}

// Outcome of parseJson: exactly one of `value` / `error` is set.
export class JsonResult {
  value: JsonValue | null = null;
  error: string = "";
}

// Nesting limit, so hostile input cannot overflow the wasm stack.
const MAX_DEPTH = 64;

class Parser {
  src: string;
  pos: i32 = 0;
  error: string = "";

  constructor(src: string) {
    this.src = src;
  }

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) {
      this.error = message + " at offset " + this.pos.toString();
    }
    return null;
  }

  atEnd(): bool { return this.pos >= this.src.length; }
  peek(): i32 { return this.atEnd() ? -1 : this.src.charCodeAt(this.pos); }

  skipWhitespace(): void {
    while (!this.atEnd()) {
      const c = this.peek();
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  // Consumes `word` if it is next in the input.
  consume(word: string): bool {
    if (this.src.substring(this.pos, this.pos + word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  parseValue(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting too deep");
    this.skipWhitespace();
    const c = this.peek();
    if (c == 0x7b /* { */) return this.parseObject(depth);
    if (c == 0x5b /* [ */) return this.parseArray(depth);
    if (c == 0x22 /* " */) return this.parseStringValue();
    if (c == 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.consume("true")) return boolValue(true);
    if (this.consume("false")) return boolValue(false);
    if (this.consume("null")) return new JsonValue(JsonKind.Null);
    return this.fail(c < 0 ? "unexpected end of input" : "unexpected character");
  }

  parseObject(depth: i32): JsonValue | null {
    const obj = new JsonValue(JsonKind.Object);
    this.pos++; // {
    this.skipWhitespace();
    if (this.peek() == 0x7d /* } */) {
      this.pos++;
      return obj;
    }
    while (true) {
      this.skipWhitespace();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      const key = this.parseString();
      if (key === null) return null;
      this.skipWhitespace();
      if (this.peek() != 0x3a /* : */) return this.fail("expected ':'");
      this.pos++;
      const value = this.parseValue(depth + 1);
      if (value === null) return null;
      obj.keys.push(key);
      obj.values.push(value);
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d /* } */) return obj;
      if (c != 0x2c /* , */) return this.fail("expected ',' or '}'");
    }
    return obj; // unreachable; keeps the compiler's flow analysis happy
  }

  parseArray(depth: i32): JsonValue | null {
    const arr = new JsonValue(JsonKind.Array);
    this.pos++; // [
    this.skipWhitespace();
    if (this.peek() == 0x5d /* ] */) {
      this.pos++;
      return arr;
    }
    while (true) {
      const item = this.parseValue(depth + 1);
      if (item === null) return null;
      arr.items.push(item);
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d /* ] */) return arr;
      if (c != 0x2c /* , */) return this.fail("expected ',' or ']'");
    }
    return arr;
  }

  parseStringValue(): JsonValue | null {
    const s = this.parseString();
    if (s === null) return null;
    const v = new JsonValue(JsonKind.String);
    v.text = s;
    return v;
  }

  // Parses a quoted string starting at the opening quote. Unescaped runs are
  // copied with substring; escapes are decoded one at a time.
  parseString(): string | null {
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    while (true) {
      if (this.atEnd()) {
        this.fail("unterminated string");
        return null;
      }
      const c = this.peek();
      if (c == 0x22 /* " */) {
        out += this.src.substring(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail("control character in string");
        return null;
      }
      if (c == 0x5c /* \ */) {
        out += this.src.substring(runStart, this.pos);
        this.pos++;
        const decoded = this.parseEscape();
        if (decoded < 0) return null;
        out += String.fromCharCode(decoded);
        runStart = this.pos;
        continue;
      }
      this.pos++;
    }
    return out;
  }

  // Decodes the escape after a backslash into one UTF-16 code unit, or -1.
  // A \uD83D\uDE00 surrogate pair simply yields two consecutive units,
  // which is exactly how AssemblyScript strings store it.
  parseEscape(): i32 {
    const c = this.peek();
    this.pos++;
    switch (c) {
      case 0x22: return 0x22; // \"
      case 0x5c: return 0x5c; // \\
      case 0x2f: return 0x2f; // \/
      case 0x62: return 0x08; // \b
      case 0x66: return 0x0c; // \f
      case 0x6e: return 0x0a; // \n
      case 0x72: return 0x0d; // \r
      case 0x74: return 0x09; // \t
      case 0x75: return this.parseHex4(); // \uXXXX
    }
    this.pos--;
    this.fail("invalid escape");
    return -1;
  }

  parseHex4(): i32 {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const digit = hexDigit(this.peek());
      if (digit < 0) {
        this.fail("invalid \\u escape");
        return -1;
      }
      value = (value << 4) | digit;
      this.pos++;
    }
    return value;
  }

  // Validates the JSON number grammar, then converts the matched text.
  parseNumber(): JsonValue | null {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) {
      this.pos++;
    } else if (!this.digits()) {
      return this.fail("invalid number");
    }
    if (this.peek() == 0x2e /* . */) {
      this.pos++;
      if (!this.digits()) return this.fail("invalid number");
    }
    const e = this.peek();
    if (e == 0x65 || e == 0x45 /* e E */) {
      this.pos++;
      const sign = this.peek();
      if (sign == 0x2b || sign == 0x2d) this.pos++;
      if (!this.digits()) return this.fail("invalid number");
    }
    const v = new JsonValue(JsonKind.Number);
    v.text = this.src.substring(start, this.pos);
    v.num = parseFloat(v.text);
    return v;
  }

  // Consumes one or more decimal digits.
  digits(): bool {
    const start = this.pos;
    while (!this.atEnd()) {
      const c = this.peek();
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    return this.pos > start;
  }
}

function boolValue(flag: bool): JsonValue {
  const v = new JsonValue(JsonKind.Bool);
  v.flag = flag;
  return v;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

// Parses a complete JSON document; trailing non-whitespace is an error.
export function parseJson(text: string): JsonResult {
  const parser = new Parser(text);
  const result = new JsonResult();
  const value = parser.parseValue(0);
  if (value !== null) {
    parser.skipWhitespace();
    if (parser.atEnd()) {
      result.value = value;
      return result;
    }
    parser.fail("unexpected trailing characters");
  }
  result.error = parser.error;
  return result;
}
