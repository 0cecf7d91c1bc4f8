// Package vocabulary holds the controlled vocabularies of the catalog: the
// values that the publiccode.yml standard (v0.x) allows for a tool's
// categories, softwareType, developmentStatus, maintenance.type and
// platforms.
//
// ogpnode, a federation node for open-government tool catalogs, uses it in
// the input validation of the tools it stores and in the harvesters that read
// publiccode.yml files. Every list is built afresh by a function, sorted and
// without duplicates, so callers may keep or change what they get. The
// membership tests (IsCategory, IsSoftwareType, ...) look values up in sets
// of their own, built once on first use from the same lists and never
// handed out, so they cost no allocation and are safe for concurrent use.
package vocabulary

// Categories returns the software categories of the publiccode.yml
// standard, sorted. The list is the one the reference parser,
// github.com/italia/publiccode-parser-go, accepts for publiccode.yml v0
// (validators/v0.go); it is the standard's categories-list plus
// "integrated-library-system", "regulations-and-directives" and "other".
func Categories() []string {
	return []string{
		"accounting",
		"agile-project-management",
		"applicant-tracking",
		"application-development",
		"appointment-scheduling",
		"backup",
		"billing-and-invoicing",
		"blog",
		"budgeting",
		"business-intelligence",
		"business-process-management",
		"cad",
		"call-center-management",
		"cloud-management",
		"collaboration",
		"communications",
		"compliance-management",
		"contact-management",
		"content-management",
		"crm",
		"customer-service-and-support",
		"data-analytics",
		"data-collection",
		"data-visualization",
		"design",
		"design-system",
		"digital-asset-management",
		"digital-citizenship",
		"document-management",
		"donor-management",
		"e-commerce",
		"e-signature",
		"educational-content",
		"email-management",
		"email-marketing",
		"employee-management",
		"enterprise-project-management",
		"enterprise-social-networking",
		"erp",
		"event-management",
		"facility-management",
		"feedback-and-reviews-management",
		"financial-reporting",
		"fleet-management",
		"fundraising",
		"gamification",
		"geographic-information-systems",
		"grant-management",
		"graphic-design",
		"help-desk",
		"hr",
		"ide",
		"identity-management",
		"instant-messaging",
		"integrated-library-system",
		"inventory-management",
		"it-asset-management",
		"it-development",
		"it-management",
		"it-security",
		"it-service-management",
		"knowledge-management",
		"learning-management-system",
		"marketing",
		"mind-mapping",
		"mobile-marketing",
		"mobile-payment",
		"network-management",
		"office",
		"online-booking",
		"online-community",
		"other",
		"payment-gateway",
		"payroll",
		"predictive-analysis",
		"procurement",
		"productivity-suite",
		"project-collaboration",
		"project-management",
		"property-management",
		"real-estate-management",
		"regulations-and-directives",
		"remote-support",
		"resource-management",
		"sales-management",
		"seo",
		"service-desk",
		"social-media-management",
		"survey",
		"talent-management",
		"task-management",
		"taxes-management",
		"test-management",
		"time-management",
		"time-tracking",
		"translation",
		"video-conferencing",
		"video-editing",
		"visitor-management",
		"voip",
		"warehouse-management",
		"web-collaboration",
		"web-conferencing",
		"website-builder",
		"whistleblowing",
		"workflow-management",
	}
}

// IsCategory reports whether s is one of Categories. The comparison is
// case-sensitive, as in the standard.
func IsCategory(s string) bool {
	return categorySet()[s]
}

var categorySet = setOf(Categories)
