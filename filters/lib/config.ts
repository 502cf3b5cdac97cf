// Loading and validating a filter's JSON configuration.
import { BufferTypeValues } from "@solo-io/proxy-runtime/runtime";
import { JsonValue, parseJson } from "./json";
import { readBuffer } from "./buffer";
import { logDebug, logError } from "./log";

// Reads the plugin configuration buffer.
//
// RootContext.onConfigure in the SDK cannot be used for this: it passes the
// configuration *size* where the ABI expects a pointer for the returned
// length (so the host writes that length to address `size`), and then
// trusts a length slot it never filled. Depending on what the previous host
// call left in that slot, the configuration comes back empty, or — for an
// empty configuration — as stale memory. Reading it ourselves avoids both.
export function readPluginConfiguration(size: u32): string {
  return String.UTF8.decode(readBuffer(BufferTypeValues.PluginConfiguration, size));
}

// Reads and parses the configuration, which must be a JSON object. An empty
// (or all-whitespace) configuration means "{}". Returns null, after logging
// why, when the configuration is unusable.
export function loadConfiguration(filter: string, size: u32): JsonValue | null {
  let text = readPluginConfiguration(size);
  if (text.trim().length == 0) {
    logDebug(filter, "empty configuration, using {}");
    text = "{}";
  }
  const parsed = parseJson(text);
  const value = parsed.value;
  if (value === null) {
    logError(filter, "configuration is not valid JSON: " + parsed.error);
    return null;
  }
  if (!value.isObject()) {
    logError(filter, "configuration must be a JSON object, got " + value.kindName());
    return null;
  }
  return value;
}

// Typed accessors over a configuration object. Each problem is logged at
// error level and remembered in `ok`, so a filter can validate its whole
// configuration in one pass and report every mistake at once.
export class ConfigReader {
  filter: string;
  ok: bool = true;

  constructor(filter: string) {
    this.filter = filter;
  }

  fail(path: string, message: string): void {
    logError(this.filter, "configuration: " + path + " " + message);
    this.ok = false;
  }

  // Rejects unknown keys, so a typo ("remvoe") is not silently ignored.
  allowKeys(obj: JsonValue, path: string, allowed: Array<string>): void {
    for (let i = 0; i < obj.keys.length; i++) {
      const key = obj.keys[i];
      if (!allowed.includes(key)) {
        this.fail(join(path, key), "is not a known key (expected one of: " + allowed.join(", ") + ")");
      }
    }
  }

  // An optional nested object; null when absent, null or of the wrong type.
  object(parent: JsonValue, key: string, path: string): JsonValue | null {
    const v = present(parent, key);
    if (v === null) return null;
    if (!v.isObject()) {
      this.fail(join(path, key), "must be an object, got " + v.kindName());
      return null;
    }
    return v;
  }

  // An optional nested array; null when absent, null or of the wrong type.
  array(parent: JsonValue, key: string, path: string): JsonValue | null {
    const v = present(parent, key);
    if (v === null) return null;
    if (!v.isArray()) {
      this.fail(join(path, key), "must be an array, got " + v.kindName());
      return null;
    }
    return v;
  }

  // A string member; `fallback` when absent. `required` makes absence an error.
  string(parent: JsonValue, key: string, path: string, fallback: string, required: bool = false): string {
    const v = present(parent, key);
    if (v === null) {
      if (required) this.fail(join(path, key), "is required");
      return fallback;
    }
    if (!v.isString()) {
      this.fail(join(path, key), "must be a string, got " + v.kindName());
      return fallback;
    }
    return v.text;
  }

  // An integer member within [min, max]; `fallback` when absent.
  integer(parent: JsonValue, key: string, path: string, min: i32, max: i32, fallback: i32): i32 {
    const v = present(parent, key);
    if (v === null) return fallback;
    if (!v.isIntegerIn(<f64>min, <f64>max)) {
      this.fail(join(path, key), "must be an integer between " + min.toString() + " and " + max.toString());
      return fallback;
    }
    return <i32>v.num;
  }

  // An array of strings; `fallback` when absent.
  stringList(parent: JsonValue, key: string, path: string, fallback: Array<string>): Array<string> {
    const arr = this.array(parent, key, path);
    if (arr === null) return fallback;
    const out = new Array<string>();
    for (let i = 0; i < arr.items.length; i++) {
      const item = arr.items[i];
      if (!item.isString()) {
        this.fail(join(path, key) + "[" + i.toString() + "]", "must be a string, got " + item.kindName());
        continue;
      }
      out.push(item.text);
    }
    return out;
  }
}

// A member that is present and not JSON null (null counts as "not set").
function present(parent: JsonValue, key: string): JsonValue | null {
  const v = parent.get(key);
  if (v === null || v.isNull()) return null;
  return v;
}

function join(path: string, key: string): string {
  if (path.length == 0) return key;
  return path + "." + key;
}
