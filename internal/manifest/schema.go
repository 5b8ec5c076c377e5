package manifest

import _ "embed"

// Schema is slipway.schema.json, the JSON Schema (draft 2020-12) of the
// file, for editors: a manifest's first line
//
//	# yaml-language-server: $schema=<URL or path of slipway.schema.json>
//
// makes the YAML language server complete and check it.
//
//go:embed slipway.schema.json
var Schema []byte
