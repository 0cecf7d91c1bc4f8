package vocabulary

// maxPlatformLen is the longest platform name IsPlatform accepts.
const maxPlatformLen = 40

// Platforms returns the platforms that the publiccode.yml standard
// suggests for the platforms field, sorted. The field is free-form: see
// IsPlatform.
func Platforms() []string {
	return []string{
		"android",
		"ios",
		"linux",
		"mac",
		"web",
		"windows",
	}
}

// IsPlatform reports whether s can be a platform: one of Platforms, or any
// other lowercase token of 1 to 40 characters that starts with a letter or
// a digit and goes on with letters, digits, ".", "+", "-" or "_" (as a
// regular expression, ^[a-z0-9][a-z0-9._+-]{0,39}$). The underscore is
// there because the reference parser's own valid examples use
// "custom_platform".
func IsPlatform(s string) bool {
	switch s {
	case "android", "ios", "linux", "mac", "web", "windows":
		return true
	}
	if s == "" || len(s) > maxPlatformLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '+' || c == '-' || c == '_'):
		default:
			return false
		}
	}
	return true
}
