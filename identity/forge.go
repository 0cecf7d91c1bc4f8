package identity

import "strings"

// forgeLayout is how a forge lays out the paths of its repositories.
type forgeLayout int

const (
	// notAForge: the whole path is the identity.
	notAForge forgeLayout = iota
	// ownerRepo: /owner/repo, then the forge's own routes (/tree/main,
	// /blob/..., /issues): GitHub, Bitbucket, Gitea and Forgejo, SourceHut.
	ownerRepo
	// gitLab: /group/subgroup/.../project, then "/-/" and the routes, or in
	// older links a reserved route name straight after the project.
	gitLab
)

// forge is what NormalizeURL knows of a host.
type forge struct {
	layout forgeLayout
	// caseInsensitive is true when the forge resolves owner and repository
	// names whatever their case (GitHub, GitLab, Gitea: they keep a
	// lowercased name for lookups and allow no two names that differ only
	// by case), so that "Decidim/Decidim" and "decidim/decidim" are one.
	caseInsensitive bool
}

// knownForges are the hosted forges by host name.
var knownForges = map[string]forge{
	"github.com":       {ownerRepo, true},
	"bitbucket.org":    {ownerRepo, true},
	"codeberg.org":     {ownerRepo, true},
	"gitea.com":        {ownerRepo, true},
	"git.sr.ht":        {ownerRepo, false}, // SourceHut: /~owner/repo
	"gitlab.com":       {gitLab, true},
	"framagit.org":     {gitLab, true},
	"salsa.debian.org": {gitLab, true},
	"invent.kde.org":   {gitLab, true},
}

// forgeOf returns what is known of host, a normalised host name without
// port. Besides the hosted forges, any host named gitlab.* is taken for a
// self-hosted GitLab (gitlab.gnome.org, gitlab.adullact.net), the common
// way administrations and universities name theirs.
func forgeOf(host string) forge {
	if f, ok := knownForges[host]; ok {
		return f
	}
	if rest, ok := strings.CutPrefix(host, "gitlab."); ok && rest != "" {
		return forge{gitLab, true}
	}
	return forge{}
}

// gitLabRoutes are names GitLab reserves after a project path (its
// PROJECT_WILDCARD_ROUTES): no group or project can have them, so in a link
// without "/-/" (GitLab before 12, and links people still copy) one of them
// at the third segment or later ends the project path.
var gitLabRoutes = map[string]bool{
	"badges": true, "blame": true, "blob": true, "builds": true,
	"commits": true, "create": true, "create_dir": true, "edit": true,
	"files": true, "find_file": true, "new": true, "preview": true,
	"raw": true, "refs": true, "tree": true, "update": true, "wikis": true,
}

// repository returns the segments of path segs that name the repository
// (or the owner, for a link to an owner's page), which may be segs itself.
func (f forge) repository(segs []string) []string {
	switch f.layout {
	case ownerRepo:
		if len(segs) > 2 {
			return segs[:2]
		}
	case gitLab:
		for i, s := range segs {
			if s == "-" || i >= 2 && gitLabRoutes[s] {
				return segs[:i]
			}
		}
	default:
		// A GitLab not named gitlab.* (git.openldap.org, code.europa.eu):
		// its "/-/" after a group and project, which other sites hardly
		// ever have, ends the project's path.
		for i, s := range segs {
			if s == "-" && i >= 2 {
				return segs[:i]
			}
		}
	}
	return segs
}
