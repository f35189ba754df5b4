// identity: every input column passes through unchanged (aliased, not
// copied), with the batch's schema-level metadata.
export * from "@wasinfer/sdk/exports";
import { Input, Output, Status, onTransform, setDescription } from "@wasinfer/sdk";

function transform(input: Input, output: Output): Status {
  output.passThroughAll().keepSchemaMetadata();
  return Status.OK;
}

onTransform(transform);
setDescription("{\"name\":\"identity\",\"version\":\"1.0.0\",\"description\":\"returns its input batch unchanged\",\"language\":\"assemblyscript\"}");
