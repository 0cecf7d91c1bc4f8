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
	// sourceForge: /projects/NAME (or /p/NAME), then the project's pages.
	sourceForge
)

// forge is what NormalizeURL knows of a host.
type forge struct {
	layout forgeLayout
	// caseInsensitive is true when the forge resolves owner and repository
	// names whatever their case (GitHub, GitLab, Gitea: they keep a
	// lowercased name for lookups and allow no two names that differ only
	// by case), so that "Decidim/Decidim" and "decidim/decidim" are one.
	caseInsensitive bool
	// routes are the forge's own pages at the root of its paths, names no
	// owner can take (GitHub's /orgs/NAME, /topics/NAME; GitLab's
	// /groups/NAME): a path that starts with one names no repository,
	// however many segments follow.
	routes map[string]bool
}

// knownForges are the hosted forges by host name.
var knownForges = map[string]forge{
	"github.com":       {ownerRepo, true, gitHubRoutes},
	"bitbucket.org":    {ownerRepo, true, bitbucketRoutes},
	"codeberg.org":     {ownerRepo, true, giteaRoutes},
	"gitea.com":        {ownerRepo, true, giteaRoutes},
	"git.sr.ht":        {ownerRepo, false, nil}, // SourceHut: /~owner/repo
	"gitlab.com":       {gitLab, true, gitLabTopRoutes},
	"framagit.org":     {gitLab, true, gitLabTopRoutes},
	"salsa.debian.org": {gitLab, true, gitLabTopRoutes},
	"invent.kde.org":   {gitLab, true, gitLabTopRoutes},
	"sourceforge.net":  {sourceForge, true, nil},
}

// gitHubRoutes are GitHub's pages at the root that links to an
// organisation, a person or a list of repositories take.
var gitHubRoutes = map[string]bool{
	"about": true, "apps": true, "collections": true, "customer-stories": true,
	"enterprise": true, "enterprises": true, "events": true, "explore": true,
	"features": true, "issues": true, "login": true, "marketplace": true,
	"new": true, "notifications": true, "organizations": true, "orgs": true,
	"pricing": true, "pulls": true, "search": true, "settings": true,
	"site": true, "sponsors": true, "topics": true, "trending": true,
	"users": true,
}

// gitLabTopRoutes are GitLab's TOP_LEVEL_ROUTES that links to a group or
// a list of projects take: no group can have these names.
var gitLabTopRoutes = map[string]bool{
	"-": true, "admin": true, "api": true, "dashboard": true, "explore": true,
	"groups": true, "help": true, "import": true, "oauth": true,
	"profile": true, "projects": true, "public": true, "s": true,
	"search": true, "snippets": true, "users": true,
}

// giteaRoutes are Gitea's and Forgejo's (Codeberg's) reserved names at the
// root.
var giteaRoutes = map[string]bool{
	"-": true, "admin": true, "api": true, "explore": true, "issues": true,
	"milestones": true, "notifications": true, "org": true, "pulls": true,
	"repo": true, "user": true,
}

// bitbucketRoutes are Bitbucket's pages at the root.
var bitbucketRoutes = map[string]bool{
	"account": true, "dashboard": true, "product": true, "repo": true,
	"site": true, "snippets": true, "workspace": true,
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
		return forge{gitLab, true, gitLabTopRoutes}
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
// Whether a segment ends the path depends on it and its place only:
// segs[:from] are known to end none, and are not looked at.
func (f forge) repository(segs []string, from int) []string {
	switch f.layout {
	case ownerRepo:
		if len(segs) > 2 {
			return segs[:2]
		}
	case gitLab:
		for i := from; i < len(segs); i++ {
			if s := segs[i]; s == "-" || i >= 2 && gitLabRoutes[s] {
				return segs[:i]
			}
		}
	case sourceForge:
		if len(segs) >= 2 && (segs[0] == "projects" || segs[0] == "p") {
			segs[0] = "projects" // /p/NAME/code is the project's too
			return segs[:2]
		}
	default:
		for i := from; i < len(segs); i++ {
			switch s := segs[i]; {
			case i >= 2 && s == "-":
				// A GitLab not named gitlab.* (git.openldap.org,
				// code.europa.eu): its "/-/" after a group and project,
				// which other sites hardly ever have, ends the project's
				// path.
				return segs[:i]
			case i >= 2 && s == "src" && i+1 < len(segs) && giteaRefs[segs[i+1]]:
				// A Gitea or Forgejo not known by its name: a file of a
				// branch, a commit or a tag.
				return segs[:i]
			case hasGitSuffix(s):
				// A repository of cgit, gitweb or gitbox, then a page of
				// it ("/cgit/emacs.git/tree").
				return segs[:i+1]
			}
		}
	}
	return segs
}

// giteaRefs are what Gitea's "/src/" is followed by, in a repository.
var giteaRefs = map[string]bool{"branch": true, "commit": true, "tag": true}
