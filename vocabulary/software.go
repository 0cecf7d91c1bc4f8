package vocabulary

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
	switch s {
	case "addon",
		"configurationFiles",
		"library",
		"standalone/backend",
		"standalone/desktop",
		"standalone/iot",
		"standalone/mobile",
		"standalone/other",
		"standalone/web":
		return true
	}
	return false
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
	switch s {
	case "beta",
		"concept",
		"development",
		"obsolete",
		"stable":
		return true
	}
	return false
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
	switch s {
	case "community",
		"contract",
		"internal",
		"none":
		return true
	}
	return false
}
