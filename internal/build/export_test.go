package build

// SchemaArgs is schemaArgs, for the external tests.
var SchemaArgs = schemaArgs
