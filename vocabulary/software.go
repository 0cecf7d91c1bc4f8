package vocabulary

import "sync"

// setOf returns a function giving the set of the values list returns,
// built on its first call and shared by all calls after it. Each list is
// written once, in the function that returns it, and membership derives
// from it; the set is private, so callers cannot change it.
func setOf(list func() []string) func() map[string]bool {
	return sync.OnceValue(func() map[string]bool {
		values := list()
		set := make(map[string]bool, len(values))
		for _, v := range values {
			set[v] = true
		}
		return set
	})
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
	return softwareTypeSet()[s]
}

var softwareTypeSet = setOf(SoftwareTypes)

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
	return developmentStatusSet()[s]
}

var developmentStatusSet = setOf(DevelopmentStatuses)

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
	return maintenanceTypeSet()[s]
}

var maintenanceTypeSet = setOf(MaintenanceTypes)
