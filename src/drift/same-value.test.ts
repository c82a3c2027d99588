import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FieldPath } from "./field-path.js";
import { sameValue } from "./same-value.js";

const requests = (name: string): FieldPath => [{ field: "resources" }, { field: "requests" }, { field: name }];
const data = (name: string): FieldPath => [{ field: "data" }, { field: name }];

describe("sameValue", () => {
  it("compares a map by the desired keys only: the server adds defaults", () => {
    assert.equal(sameValue({ containerPort: 8080 }, { containerPort: 8080, protocol: "TCP" }, []), true);
    assert.equal(
      sameValue({ containerPort: 8080, protocol: "UDP" }, { containerPort: 8080, protocol: "TCP" }, []),
      false,
    );
    assert.equal(sameValue({ a: 1 }, "x", []), false);
  });

  it("compares lists item by item, length included", () => {
    assert.equal(sameValue(["--listen", ":8080"], ["--listen", ":8080"], []), true);
    assert.equal(sameValue(["--listen", ":8080"], [":8080", "--listen"], []), false);
    assert.equal(sameValue(["a"], ["a", "b"], []), false);
    assert.equal(sameValue([{ name: "a" }], [{ name: "a", value: "x" }], []), true);
    assert.equal(sameValue(["a"], "a", []), false);
  });

  it("equals an absent live field to an empty desired one, as the server leaves those out", () => {
    for (const empty of [null, "", 0, false, {}, [], { limits: {} }])
      assert.equal(sameValue(empty, undefined, []), true, JSON.stringify(empty));
    for (const value of ["x", 1, true, { a: "x" }, ["x"]])
      assert.equal(sameValue(value, undefined, []), false, JSON.stringify(value));
    assert.equal(sameValue(null, "anything", []), true);
  });

  it("compares resource quantities by amount, and other strings as they are", () => {
    assert.equal(sameValue(0.5, "500m", requests("cpu")), true);
    assert.equal(sameValue("0.5Gi", "512Mi", requests("memory")), true);
    assert.equal(sameValue("1Gi", "1G", requests("memory")), false);
    assert.equal(sameValue("1k", "1000", data("CACHE_SIZE")), false);
    assert.equal(sameValue("0.5Gi", "512Mi", [{ field: "emptyDir" }, { field: "sizeLimit" }]), true);
  });

  it("equals a number with the text the server keeps for it, and nothing else", () => {
    assert.equal(sameValue(8080, "8080", [{ field: "targetPort" }]), true);
    assert.equal(sameValue(8080, 8080, [{ field: "targetPort" }]), true);
    assert.equal(sameValue("http", 8081, [{ field: "targetPort" }]), false);
    assert.equal(sameValue(1, true, []), false);
    assert.equal(sameValue("true", true, []), false);
  });
});
