// Package publiccode is the harvester's reader for publiccode.yml files,
// the standard in which public administrations describe the software they
// publish (v0.x, https://yml.publiccode.tools). Package harvest runs it on
// each file of a source, and sends the entries it makes to the node's
// ImportHarvest, with the files it rejected and why.
//
// Parse reads one file, checks it as the standard's reference parser
// (github.com/italia/publiccode-parser-go, its v0 rules) does, and maps it
// to the catalog's Tool. The checks are the reference's offline ones:
// required keys, types (YAML 1.2: yes, no, on and off are strings, not
// booleans), unknown keys, the standard's vocabularies, SPDX licenses,
// BCP 47 language tags, ISO 3166 countries, URLs, e-mail addresses, dates,
// MIME types, lengths counted in grapheme clusters, the Italian country
// section, the iPA codes of Italian public administrations
// (urn:x-italian-pa:CODE in organisation.uri and fundedBy[].uri,
// IT.riuso.codiceIPA) and the supported versions. The iPA codes are looked
// up, case ignored, in a copy of the register embedded in the package
// (data/ipa-codes.txt, from IndicePA; data/README.md says how to refresh
// it): an administration registered since the copy was made is refused
// until it is refreshed. What the reference checks with the network or the
// repository's files is not checked: that URLs answer, that logos,
// screenshots and the authors file exist and are images, and that videos
// have an oEmbed provider.
//
// Every finding names the key the way the reference parser does
// ("description.en.longDescription", "maintenance.contacts[0].email"),
// with the line and column of the key in the file. Errors reject the file;
// warnings (deprecated keys, values the catalog cannot keep) do not. An
// accepted file always makes a Tool that package validate accepts: where
// the standard allows what the catalog does not (a longer name, a
// free-form platform, a repository URL that is not http), the value is
// dropped with a warning, or the file rejected when the value is required.
package publiccode
