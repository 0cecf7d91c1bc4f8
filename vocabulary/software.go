package vocabulary

import "sort"

// contains reports whether s is in list, which is sorted. Each list is
// written once, and membership derives from it.
func contains(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

// SoftwareTypes returns the values of publiccode.yml's softwareType, sorted.
func SoftwareTypes() []string {
	return []string{
		"addon",
		"configurationFiles",
		"library",
		"standalone/backend",
		"standalone/desktop",
		"standalone/iot",
		"standalone/mobile",
		"standalone/other",
		"standalone/web",
	}
}

// IsSoftwareType reports whether s is one of SoftwareTypes. The comparison
// is case-sensitive, as in the standard.
func IsSoftwareType(s string) bool {
	return contains(SoftwareTypes(), s)
}

// DevelopmentStatuses returns the values of publiccode.yml's
// developmentStatus, sorted alphabetically (their life-cycle order is
// concept, development, beta, stable, obsolete).
func DevelopmentStatuses() []string {
	return []string{
		"beta",
		"concept",
		"development",
		"obsolete",
		"stable",
	}
}

// IsDevelopmentStatus reports whether s is one of DevelopmentStatuses. The
// comparison is case-sensitive, as in the standard.
func IsDevelopmentStatus(s string) bool {
	return contains(DevelopmentStatuses(), s)
}

// MaintenanceTypes returns the values of publiccode.yml's maintenance.type,
// sorted.
func MaintenanceTypes() []string {
	return []string{
		"community",
		"contract",
		"internal",
		"none",
	}
}

// IsMaintenanceType reports whether s is one of MaintenanceTypes. The
// comparison is case-sensitive, as in the standard.
func IsMaintenanceType(s string) bool {
	return contains(MaintenanceTypes(), s)
}
