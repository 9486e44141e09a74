import { describe, expect, it } from "vitest";
import { editDistance, suggest } from "../../compiler/suggest.ts";

describe("editDistance", () => {
  it.each<[string, string, number]>([
    ["", "", 0],
    ["abc", "", 3],
    ["", "abc", 3],
    ["topic", "topic", 0],
    ["topc", "topic", 1], // insertion
    ["topicc", "topic", 1], // deletion
    ["tapic", "topic", 1], // substitution
    ["brokres", "brokers", 1], // neighbours swapped
    ["ca", "abc", 3], // optimal string alignment: no edit of a swapped pair
    ["kitten", "sitting", 3],
  ])("%s -> %s is %i", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe("suggest", () => {
  const options = ["brokers", "topic", "format", "start", "max_per_batch"];

  it("finds a misspelling one edit away", () => {
    expect(suggest("topc", options)).toBe("topic");
    expect(suggest("brokres", options)).toBe("brokers");
    expect(suggest("formta", options)).toBe("format");
    expect(suggest("max_per_btch", options)).toBe("max_per_batch");
  });

  it("prefers a candidate equal ignoring case, however far the others", () => {
    expect(suggest("TOPIC", options)).toBe("topic");
    expect(suggest("Amount", ["amount", "Amounts"])).toBe("amount");
  });

  it("compares ignoring case when measuring distance", () => {
    expect(suggest("Topc", options)).toBe("topic");
  });

  it("allows more edits for longer names", () => {
    expect(suggest("max_pr_btch", options)).toBe("max_per_batch"); // 2 edits, 11 characters
    expect(suggest("strt", options)).toBe("start"); // 1 edit, 4 characters
    expect(suggest("srt", options)).toBeUndefined(); // 2 edits, 3 characters
  });

  it("suggests nothing when nothing is close", () => {
    expect(suggest("partition", options)).toBeUndefined();
    expect(suggest("x", ["y", "xy"])).toBeUndefined();
    expect(suggest("anything", [])).toBeUndefined();
  });

  it("picks the closest, and the first of equally close candidates", () => {
    expect(suggest("counts", ["country", "count", "counter"])).toBe("count");
    expect(suggest("cat", ["bat", "hat"])).toBe("bat");
  });

  it("never suggests the name itself", () => {
    expect(suggest("topic", ["topic"])).toBeUndefined();
    expect(suggest("topic", ["topic", "topics"])).toBe("topics");
  });

  it("accepts any iterable of candidates", () => {
    expect(suggest("amout", new Set(["amount", "country"]))).toBe("amount");
    expect(suggest("amout", new Map([["amount", 1]]).keys())).toBe("amount");
  });
});
