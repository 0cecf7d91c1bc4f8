// Package federation is the root of the ogpnode module. It holds nothing
// but what must be embedded from the repository's top: the OpenAPI document
// generated from proto/ into gen/, which the node serves at /openapi.json.
//
// `go generate .` regenerates gen/ from proto/, offline but for the Go
// module proxy: it copies the third-party protos into .protodeps/, then runs
// buf with the plugins pinned as Go tools in go.mod.
package federation

import _ "embed"

//go:generate go run ./internal/protodeps
//go:generate go tool buf generate

//go:embed gen/openapiv2/ogpnode.swagger.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI v2 document of the REST API.
func OpenAPIDocument() []byte { return openAPIDocument }
