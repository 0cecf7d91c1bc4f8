package identity

import (
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Scheme, host, port, userinfo, query, fragment.
		{"plain", "https://github.com/decidim/decidim", "github.com/decidim/decidim"},
		{"http is https", "http://github.com/decidim/decidim", "github.com/decidim/decidim"},
		{"scheme and host case", "HTTPS://GitHub.COM/decidim/decidim", "github.com/decidim/decidim"},
		{"www dropped", "https://www.decidim.org/", "decidim.org"},
		{"www only as a label", "https://wwwdecidim.org/", "wwwdecidim.org"},
		{"trailing dot of FQDN", "https://consul.dev./features", "consul.dev/features"},
		{"default https port", "https://www.consuldemocracy.org:443/en/", "consuldemocracy.org/en"},
		{"default http port", "http://demo.cap-collectif.com:80/", "demo.cap-collectif.com"},
		{"other port kept", "http://localhost:8080/adminer/", "localhost:8080/adminer"},
		{"port leading zeros", "http://localhost:08080/", "localhost:8080"},
		{"userinfo dropped", "https://oauth2:secret@gitlab.com/incubateur/forum.git", "gitlab.com/incubateur/forum"},
		{"query and fragment dropped", "https://www.democracyos.org/?utm_source=ogp#features", "democracyos.org"},
		{"IPv6 with port", "http://[2001:DB8::1]:8443/catalog/", "[2001:db8::1]:8443/catalog"},
		{"IPv6 default port", "https://[2001:db8::1]:443/", "[2001:db8::1]"},

		// Path.
		{"trailing slashes", "https://www.etalab.gouv.fr///", "etalab.gouv.fr"},
		{"repeated slashes", "https://adullact.net//projects//webdelib", "adullact.net/projects/webdelib"},
		{"dot segments", "https://adullact.net/projects/./x/../webdelib/", "adullact.net/projects/webdelib"},
		{"dot-dot above root", "https://adullact.net/../../webdelib", "adullact.net/webdelib"},
		{"case kept on unknown hosts", "https://adullact.net/projects/WebDelib/", "adullact.net/projects/WebDelib"},
		{"SourceForge: a project's page", "https://sourceforge.net/projects/LimeSurvey/", "sourceforge.net/projects/limesurvey"},
		{"SourceForge: a project's files (the SILL's 7-Zip)", "https://sourceforge.net/projects/sevenzip/files/7-Zip/", "sourceforge.net/projects/sevenzip"},
		{"SourceForge: /p/ (the SILL's KeePass)", "https://sourceforge.net/p/keepass/code/HEAD/tree/", "sourceforge.net/projects/keepass"},
		{"cgit: a page of a repository (the SILL's Emacs)", "https://git.savannah.gnu.org/cgit/emacs.git/tree", "git.savannah.gnu.org/cgit/emacs"},
		{"cgit: a log (the SILL's Git)", "https://git.kernel.org/pub/scm/git/git.git/log/", "git.kernel.org/pub/scm/git/git"},
		{"Gitea not known by its name: a branch's files", "https://git.example.gouv.fr/city/koha/src/branch/main/docs", "git.example.gouv.fr/city/koha"},
		{"a path named src on a site", "https://example.org/city/src/readme", "example.org/city/src/readme"},
		{"percent-encoding made one", "https://example.org/%7Euser/Minist%c3%a8re", "example.org/~user/Minist%C3%A8re"},
		{"raw unicode encoded", "https://example.org/ministère", "example.org/minist%C3%A8re"},
		{"encoded slash stays in its segment", "https://example.org/a%2Fb/c", "example.org/a%2Fb/c"},
		{".git dropped", "https://git.drupalcode.org/project/drupal.git", "git.drupalcode.org/project/drupal"},
		{".git then slash", "https://git.savannah.gnu.org/cgit/emacs.git/", "git.savannah.gnu.org/cgit/emacs"},
		{".git any case", "https://git.typo3.org/Packages/TYPO3.CMS.GIT", "git.typo3.org/Packages/TYPO3.CMS"},
		{"repeated .git", "https://example.org/repo.git.git", "example.org/repo"},
		{"lone .git segment", "https://example.org/repo/.git", "example.org/repo"},
		{".git only inside", "https://example.org/repo.github.io", "example.org/repo.github.io"},

		// GitHub and other owner/repo forges.
		{"github case folded", "https://github.com/Chocobozzz/PeerTube", "github.com/chocobozzz/peertube"},
		{"github .git", "https://github.com/ansible/ansible.git", "github.com/ansible/ansible"},
		{"github tree", "https://github.com/decidim/decidim/tree/develop", "github.com/decidim/decidim"},
		{"github blob", "https://github.com/consul/consul/blob/master/README.md", "github.com/consul/consul"},
		{"github issues", "https://github.com/openfisca/openfisca-core/issues/42", "github.com/openfisca/openfisca-core"},
		{"github .git then route", "https://github.com/etalab/data.gouv.fr.git/info/refs", "github.com/etalab/data.gouv.fr"},
		{"github owner only", "https://github.com/LimeSurvey", "github.com/limesurvey"},
		{"github host only", "https://github.com/", "github.com"},
		{"www.github", "http://www.github.com/decidim/decidim/", "github.com/decidim/decidim"},
		{"bitbucket src", "https://bitbucket.org/Atlassian/Python-Bitbucket/src/master/README.md", "bitbucket.org/atlassian/python-bitbucket"},
		{"codeberg src", "https://codeberg.org/Forgejo/forgejo/src/branch/forgejo/README.md", "codeberg.org/forgejo/forgejo"},
		{"sourcehut keeps case", "https://git.sr.ht/~sircmpwn/scdoc/tree/master/item/README.md", "git.sr.ht/~sircmpwn/scdoc"},

		// GitLab and its instances.
		{"gitlab repo", "https://gitlab.com/gitlab-org/gitlab", "gitlab.com/gitlab-org/gitlab"},
		{"gitlab subgroups to /-/", "https://gitlab.com/Etalab/Sub/Group/Project/-/blob/main/x.go", "gitlab.com/etalab/sub/group/project"},
		{"gitlab /-/ tree", "https://gitlab.com/decidim/decidim/-/tree/develop", "gitlab.com/decidim/decidim"},
		{"gitlab legacy tree", "https://gitlab.com/group/sub/project/tree/master", "gitlab.com/group/sub/project"},
		{"gitlab legacy blob", "https://framagit.org/framasoft/framadate/blob/master/README.md", "framagit.org/framasoft/framadate"},
		{"gitlab route name as a group kept", "https://gitlab.com/tree/project", "gitlab.com/tree/project"},
		{"framagit case folded", "https://framagit.org/Steph/primtux7", "framagit.org/steph/primtux7"},
		{"self-hosted gitlab", "https://gitlab.adullact.net/Adullact/Projets/Comptoir/-/issues", "gitlab.adullact.net/adullact/projets/comptoir"},
		{"gitlab.gnome.org", "https://gitlab.gnome.org/GNOME/gimp.git", "gitlab.gnome.org/gnome/gimp"},
		{"salsa", "https://salsa.debian.org/debian/devscripts/-/merge_requests/12", "salsa.debian.org/debian/devscripts"},
		{"not gitlab: gitlab as a later label", "https://code.gitlab.example.org/A/B/tree/x", "code.gitlab.example.org/A/B/tree/x"},

		// gitweb.
		{"gitweb project kept", "https://git.postgresql.org/gitweb/?p=postgresql.git;a=summary", "git.postgresql.org/gitweb?p=postgresql.git"},
		{"gitweb at root", "https://git.ghostscript.com/?p=mupdf.git", "git.ghostscript.com?p=mupdf.git"},
		{"p not a repository: the query of a page", "https://blog.example.org/?p=123", "blog.example.org?p=123"},
		{"a page's query sorted, tracking and language dropped", "https://play.google.com/store/apps/details?utm_source=x&id=fr.gouv.petitions&hl=fr&fbclid=1&v=2", "play.google.com/store/apps/details?id=fr.gouv.petitions&v=2"},
		{"a site's language dropped", "https://consuldemocracy.org/?lang=fr", "consuldemocracy.org"},
		{"no query on a forge", "https://github.com/decidim/decidim?tab=readme", "github.com/decidim/decidim"},
		{"a host in punycode", "https://xn--bcher-kva.example/outil", "bücher.example/outil"},
		{"a host in its script, capitals too", "https://BÜCHER.example/outil", "bücher.example/outil"},
		{"a host of spacing marks, in punycode", "https://xn--h2brj9c.example/outil", "भारत.example/outil"},
		{"a host of spacing marks", "https://भारत.example/outil", "भारत.example/outil"},
		{"a Thai host in punycode", "https://xn--o3cw4h.example/outil", "ไทย.example/outil"},
		{"a GitLab not named gitlab.*", "https://git.openldap.org/openldap/openldap/-/tree/master", "git.openldap.org/openldap/openldap"},

		// Not absolute http(s) URLs.
		{"empty", "", ""},
		{"blank", "   ", ""},
		{"no scheme", "github.com/decidim/decidim", ""},
		{"scp-like ssh", "git@github.com:decidim/decidim.git", ""},
		{"ssh", "ssh://git@github.com/decidim/decidim.git", ""},
		{"git protocol", "git://git.kernel.org/pub/scm/git/git.git", ""},
		{"ftp", "ftp://ftp.gnu.org/gnu/emacs/", ""},
		{"mailto", "mailto:contact@decidim.org", ""},
		{"relative", "/tools/decidim", ""},
		{"no host", "https:///decidim", ""},
		{"opaque", "https:decidim.org", ""},
		{"www only", "https://www./", ""},
		{"bad escape", "https://example.org/%zz", ""},
		{"bad port", "https://example.org:99999/", ""},
		{"IPv6 zone", "http://[fe80::1%25en0]/", ""},
		{"resource name", "origins/fr/tools/decidim", ""},
		{"surrounding space trimmed", "  https://decidim.org/  ", "decidim.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeURL(tt.in); got != tt.want {
				t.Errorf("NormalizeURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.want != "" {
				if again := NormalizeURL("https://" + tt.want); again != tt.want {
					t.Errorf("NormalizeURL(https://%s) = %q, not stable", tt.want, again)
				}
			}
		})
	}
}

// The spellings of one repository that real catalogs use all give one key.
func TestNormalizeURLSpellingsAgree(t *testing.T) {
	spellings := []string{
		"https://github.com/decidim/decidim",
		"https://github.com/decidim/decidim/",
		"https://github.com/decidim/decidim.git",
		"http://github.com/decidim/decidim",
		"https://www.github.com/decidim/decidim",
		"https://GitHub.com/Decidim/Decidim",
		"https://github.com/decidim/decidim/tree/develop",
		"https://github.com/decidim/decidim/blob/develop/README.md#installation",
		"https://github.com:443/decidim/decidim?tab=readme-ov-file",
		"https://github.com//decidim//decidim",
	}
	want := NormalizeURL(spellings[0])
	for _, s := range spellings {
		if got := NormalizeURL(s); got != want {
			t.Errorf("NormalizeURL(%q) = %q, want %q like %q", s, got, want, spellings[0])
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name string
		tool *catalogv1.Tool
		want string
	}{
		{"nil tool", nil, ""},
		{"repository first", &catalogv1.Tool{
			RepositoryUrl: "https://github.com/decidim/decidim.git",
			LandingUrl:    "https://decidim.org/",
		}, "github.com/decidim/decidim"},
		{"landing when no repository", &catalogv1.Tool{
			LandingUrl: "https://www.cap-collectif.com/",
		}, "cap-collectif.com"},
		{"landing when repository is not http", &catalogv1.Tool{
			RepositoryUrl: "git@github.com:consul/consul.git",
			LandingUrl:    "https://consuldemocracy.org",
		}, "consuldemocracy.org"},
		{"neither", &catalogv1.Tool{DisplayName: "Proprietary Petitions"}, ""},
		{"a forge's home is no repository", &catalogv1.Tool{RepositoryUrl: "https://github.com/", LandingUrl: "https://petitions.example.org"}, "petitions.example.org"},
		{"an owner's page is no repository", &catalogv1.Tool{RepositoryUrl: "https://github.com/etalab", LandingUrl: "https://code.gouv.fr"}, "code.gouv.fr"},
		{"GitHub's page of an organisation is no repository", &catalogv1.Tool{RepositoryUrl: "https://github.com/orgs/etalab/repositories", LandingUrl: "https://code.gouv.fr"}, "code.gouv.fr"},
		{"GitHub's page of a topic is no repository", &catalogv1.Tool{RepositoryUrl: "https://github.com/topics/civic-tech", LandingUrl: "https://code.gouv.fr"}, "code.gouv.fr"},
		{"GitLab's page of a group is no repository", &catalogv1.Tool{RepositoryUrl: "https://gitlab.com/groups/etalab/-/shared", LandingUrl: "https://code.gouv.fr"}, "code.gouv.fr"},
		{"a self-hosted GitLab's list of projects is no repository", &catalogv1.Tool{RepositoryUrl: "https://gitlab.adullact.net/explore/projects"}, ""},
		{"Codeberg's page of an organisation is no repository", &catalogv1.Tool{RepositoryUrl: "https://codeberg.org/org/forgejo/teams"}, ""},
		{"a repository named like a route of another forge", &catalogv1.Tool{RepositoryUrl: "https://github.com/etalab/groups"}, "github.com/etalab/groups"},
		{"cgit's home is no repository (the SILL's Eclipse IDE)", &catalogv1.Tool{RepositoryUrl: "https://git.eclipse.org/c/", LandingUrl: "https://eclipseide.org/"}, "eclipseide.org"},
		{"gitweb's home is no repository", &catalogv1.Tool{RepositoryUrl: "https://git.postgresql.org/gitweb/", LandingUrl: "https://www.postgresql.org/"}, "postgresql.org"},
		{"gitweb's project is one", &catalogv1.Tool{RepositoryUrl: "https://git.postgresql.org/gitweb/?p=postgresql.git;a=summary"}, "git.postgresql.org/gitweb?p=postgresql.git"},
		{"a project under a git server's home is one", &catalogv1.Tool{RepositoryUrl: "https://git.eclipse.org/c/jdt/eclipse.jdt.git"}, "git.eclipse.org/c/jdt/eclipse.jdt"},
		{"a GitLab not named gitlab.*: its list of projects is no repository (the SILL's VLC)", &catalogv1.Tool{RepositoryUrl: "https://code.videolan.org/explore/projects/starred", LandingUrl: "https://www.videolan.org/vlc/"}, "videolan.org/vlc"},
		{"an owner's page is no landing either", &catalogv1.Tool{LandingUrl: "https://github.com/etalab"}, ""},
		{"a forge's home is no landing either", &catalogv1.Tool{LandingUrl: "https://github.com/"}, ""},
		{"a repository as landing", &catalogv1.Tool{LandingUrl: "https://github.com/decidim/decidim"}, "github.com/decidim/decidim"},
		{"SourceForge's directory is no repository", &catalogv1.Tool{RepositoryUrl: "https://sourceforge.net/directory/os:linux/", LandingUrl: "https://petitions.example.org"}, "petitions.example.org"},
		{"a SourceForge project is one", &catalogv1.Tool{RepositoryUrl: "https://sourceforge.net/p/keepass/code/"}, "sourceforge.net/projects/keepass"},
		{"a GitLab route at the root is no repository", &catalogv1.Tool{RepositoryUrl: "https://gitlab.com/-/ide/project/city/petitions"}, ""},
		{"a git server's home is no repository", &catalogv1.Tool{RepositoryUrl: "https://git.proxmox.com/", LandingUrl: "https://www.proxmox.com/en/proxmox-ve"}, "proxmox.com/en/proxmox-ve"},
		{"a GitLab group's project", &catalogv1.Tool{RepositoryUrl: "https://gitlab.com/city/petitions"}, "gitlab.com/city/petitions"},
		{"a websvn repository", &catalogv1.Tool{RepositoryUrl: "https://www.scribus.net/websvn/listing.php?repname=Scribus"}, "scribus.net/websvn/listing.php?repname=Scribus"},
		{"neither is a URL", &catalogv1.Tool{RepositoryUrl: "N/A", LandingUrl: "see website"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(tt.tool); got != tt.want {
				t.Errorf("Key() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSame(t *testing.T) {
	fr := &catalogv1.Tool{Name: "origins/fr/tools/decidim", RepositoryUrl: "https://github.com/decidim/decidim"}
	es := &catalogv1.Tool{Name: "origins/es/tools/decidim", RepositoryUrl: "http://github.com/Decidim/decidim.git"}
	other := &catalogv1.Tool{Name: "origins/es/tools/consul", RepositoryUrl: "https://github.com/consul/consul"}
	noKey1 := &catalogv1.Tool{Name: "origins/fr/tools/a"}
	noKey2 := &catalogv1.Tool{Name: "origins/fr/tools/b"}
	if !Same(fr, es) {
		t.Error("Same(fr, es) = false, want true: one repository spelt two ways")
	}
	if Same(fr, other) {
		t.Error("Same(fr, other) = true, want false")
	}
	if Same(noKey1, noKey2) || Same(noKey1, noKey1) {
		t.Error("tools without a key are duplicates of nothing")
	}
	if Same(nil, nil) {
		t.Error("Same(nil, nil) = true")
	}
}

func TestRefersTo(t *testing.T) {
	decidim := &catalogv1.Tool{
		Name:          "origins/fr/tools/decidim",
		RepositoryUrl: "https://github.com/decidim/decidim",
		LandingUrl:    "https://decidim.org/",
	}
	landingOnly := &catalogv1.Tool{
		Name:       "origins/fr/tools/cap-collectif",
		LandingUrl: "https://cap-collectif.com",
	}
	noURL := &catalogv1.Tool{Name: "origins/de/tools/intranet"}
	tests := []struct {
		name string
		ref  string
		tool *catalogv1.Tool
		want bool
	}{
		{"same resource name", "origins/fr/tools/decidim", decidim, true},
		{"other origin's record", "origins/es/tools/decidim", decidim, false},
		{"other tool", "origins/fr/tools/consul", decidim, false},
		{"resource name is exact", "origins/fr/tools/decidim/", decidim, false},
		{"resource name with spaces", "  origins/fr/tools/decidim ", decidim, true},
		{"repository URL", "https://github.com/decidim/decidim", decidim, true},
		{"repository URL spelt otherwise", "http://www.github.com/Decidim/decidim.git", decidim, true},
		{"link into the repository", "https://github.com/decidim/decidim/tree/develop/decidim-core", decidim, true},
		{"landing URL", "https://www.decidim.org", decidim, true},
		{"landing page below", "https://decidim.org/features", decidim, false},
		{"other repository", "https://github.com/consul/consul", decidim, false},
		{"landing-only tool", "http://cap-collectif.com/", landingOnly, true},
		{"empty", "", decidim, false},
		{"not a URL", "Decidim", decidim, false},
		{"tool without URLs", "https://intranet.example.de", noURL, false},
		{"tool without URLs, by name", "origins/de/tools/intranet", noURL, true},
		{"nil tool", "origins/fr/tools/decidim", nil, false},
		{"empty name matches nothing", "origins/", &catalogv1.Tool{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RefersTo(tt.ref, tt.tool); got != tt.want {
				t.Errorf("RefersTo(%q) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/decidim/decidim",
		"http://www.GitHub.com/Decidim/decidim.git/tree/main",
		"https://gitlab.com/a/b/c/-/blob/main/x.go",
		"https://gitlab.example.org/g/p/tree.git",
		"https://git.postgresql.org/gitweb/?p=postgresql.git;a=summary",
		"https://[::1]:8080/a//b/../c",
		"https://user:pw@example.org:443/Foo/%7Ebar?x=1#f",
		"https://café.fr/é",
		"https://example.org/a%2Fb/..git/.git",
		"https://www.www.example.org./x/./y/",
		"ftp://x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := NormalizeURL(raw)
		if got == "" {
			return
		}
		if strings.Contains(got, "://") {
			t.Errorf("NormalizeURL(%q) = %q keeps a scheme", raw, got)
		}
		if again := NormalizeURL("https://" + got); again != got {
			t.Errorf("NormalizeURL(%q) = %q, but NormalizeURL(https://%s) = %q", raw, got, got, again)
		}
		if again := NormalizeURL("http://" + got); again != got {
			t.Errorf("NormalizeURL(%q) = %q, but NormalizeURL(http://%s) = %q", raw, got, got, again)
		}
	})
}

// TestHostilePathsNormalised: a peer's records are not validated, and a
// URL may be a chain of segments each pass of trimSegments shortens by
// one ("/tree.git/tree.git/..." on a GitLab, "/-.git/-.git/..." anywhere):
// it normalises as a short one does. (Looking at every segment at each
// pass cost n² steps: seconds for 200 KB; BenchmarkHostilePath.)
func TestHostilePathsNormalised(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://gitlab.com/city/app/tree.git/tree.git/tree.git", "gitlab.com/city/app"},
		{"https://gitlab.com/city/app" + strings.Repeat("/tree.git", 30000), "gitlab.com/city/app"},
		{"https://git.example.org/city/app" + strings.Repeat("/-.git", 30000), "git.example.org/city/app"},
		{"https://git.example.org/city/app/-.git/-.git", "git.example.org/city/app"},
	} {
		if got := NormalizeURL(tc.in); got != tc.want {
			t.Errorf("NormalizeURL of %d bytes = %.80q, want %q", len(tc.in), got, tc.want)
		}
	}
}

// BenchmarkHostilePath normalises a URL of 60,000 segments that each pass
// of trimSegments shortens by one: linear in them, as a plain path.
func BenchmarkHostilePath(b *testing.B) {
	url := "https://gitlab.com/city/app" + strings.Repeat("/tree.git", 60000)
	for b.Loop() {
		NormalizeURL(url)
	}
}
