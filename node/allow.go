package node

import (
	"regexp"
	"strings"
)

// restRoute is a REST address and the methods it takes.
type restRoute struct {
	path    *regexp.Regexp
	methods []string
}

// restRoutes are the methods each REST address takes, for the Allow
// header of a 405 (RFC 9110 requires it): grpc-gateway routes by the
// protos' HTTP rules, and says only that the method is not one of them.
// TestRESTRoutesMatchOpenAPI keeps the list and the protos together.
func restRoutes() []restRoute {
	return []restRoute{
		{regexp.MustCompile(`^/v1/(harvests|node|peers|tools|tools:facets|usecases|usecases:facets)$`), []string{"GET", "HEAD"}},
		{regexp.MustCompile(`^/v1/harvests:import$`), []string{"POST"}},
		{regexp.MustCompile(`^/v1/origins/[^/]+/(tools|usecases)$`), []string{"POST"}},
		// The adoption of a tool before the tool: the gateway routes a
		// name's last segment whatever it holds, a ":" too.
		{regexp.MustCompile(`^/v1/origins/[^/]+/tools/[^/]+:adoption$`), []string{"GET", "HEAD"}},
		{regexp.MustCompile(`^/v1/origins/[^/]+/(tools|usecases)/[^/]+$`), []string{"GET", "HEAD", "PATCH", "DELETE"}},
	}
}

// allowedMethods is the Allow header of a REST address ("" for one that
// is none). It runs for 405s only.
func allowedMethods(path string) string {
	for _, r := range restRoutes() {
		if r.path.MatchString(path) {
			return strings.Join(r.methods, ", ")
		}
	}
	return ""
}
