package node

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/qualify"
	"github.com/ogptoolbox/federation/spdx"
	"github.com/ogptoolbox/federation/storage"
	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// catalogServer implements CatalogService over the store. It validates every
// request before the store sees it; auth is the interceptors' job.
type catalogServer struct {
	catalogv1.UnimplementedCatalogServiceServer
	store   *storage.Store
	version string
}

// outputOnly are the fields of Tool and UseCase that the node sets.
func outputOnly() map[string]bool {
	return map[string]bool{"name": true, "create_time": true, "update_time": true, "origin": true, "seq": true, "deleted": true, "etag": true, "qualification": true}
}

// Page sizes of list calls.
const (
	defaultPageSize = 20
	maxPageSize     = 200
	maxPageBytes    = 2 << 20 // see list
)

// ownOrigin checks that a write targets the node's own origin.
func (s *catalogServer) ownOrigin(origin string) error {
	if origin != s.store.Origin() {
		return status.Errorf(codes.PermissionDenied, "this node writes origin %q only; records of %q are written on their own node", s.store.Origin(), origin)
	}
	return nil
}

func (s *catalogServer) CreateTool(ctx context.Context, req *catalogv1.CreateToolRequest) (*catalogv1.Tool, error) {
	m, err := s.create(ctx, req.GetParent(), "tool_id", req.GetToolId(), "tool", req.GetTool(), req.GetTool().GetDisplayName())
	if err != nil {
		return nil, err
	}
	return m.(*catalogv1.Tool), nil
}

func (s *catalogServer) CreateUseCase(ctx context.Context, req *catalogv1.CreateUseCaseRequest) (*catalogv1.UseCase, error) {
	m, err := s.create(ctx, req.GetParent(), "use_case_id", req.GetUseCaseId(), "use_case", req.GetUseCase(), req.GetUseCase().GetOrganization().GetName())
	if err != nil {
		return nil, err
	}
	return m.(*catalogv1.UseCase), nil
}

// create validates and stores a new tool or use case. With no id given, it
// derives one from the title, and adds a random suffix if that one is
// taken.
func (s *catalogServer) create(ctx context.Context, parent, idField, id, field string, res proto.Message, title string) (proto.Message, error) {
	origin, err := validate.ParseParent(parent)
	if err != nil {
		return nil, invalidField("parent", "%v", err)
	}
	if err := s.ownOrigin(origin); err != nil {
		return nil, err
	}
	var v violations
	if id != "" && !envelope.ValidID(id) {
		v.add(idField, "%q is not an id: 1 to 63 lowercase letters, digits and hyphens, starting with a letter", id)
	}
	if res == nil || !res.ProtoReflect().IsValid() {
		v.add(field, "is required")
		return nil, v.err()
	}
	res = proto.Clone(res)
	clearOutputOnly(res)
	setManualProvenance(res)
	clearEntryHash(res)
	validateResource(&v, field, res)
	if err := v.err(); err != nil {
		return nil, err
	}
	chosen := id == ""
	if chosen {
		id = slug(title)
	}
	for attempt := 0; ; attempt++ {
		out, err := s.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: id, Resource: res}})
		if chosen && errors.Is(err, storage.ErrAlreadyExists) && attempt < 5 {
			id = slugWithSuffix(slug(title))
			continue
		}
		if err != nil {
			return nil, statusOf(err)
		}
		return s.qualified(out[0]), nil
	}
}

func (s *catalogServer) GetTool(ctx context.Context, req *catalogv1.GetToolRequest) (*catalogv1.Tool, error) {
	m, err := s.get(ctx, req.GetName(), "tools", storage.KindTool)
	if err != nil {
		return nil, err
	}
	return m.(*catalogv1.Tool), nil
}

func (s *catalogServer) GetUseCase(ctx context.Context, req *catalogv1.GetUseCaseRequest) (*catalogv1.UseCase, error) {
	m, err := s.get(ctx, req.GetName(), "usecases", storage.KindUseCase)
	if err != nil {
		return nil, err
	}
	return m.(*catalogv1.UseCase), nil
}

func (s *catalogServer) get(ctx context.Context, name, collection string, k storage.Kind) (proto.Message, error) {
	origin, id, err := validate.ParseName(name, collection)
	if err != nil {
		return nil, invalidField("name", "%v", err)
	}
	m, err := s.store.Get(ctx, k, origin, id)
	return m, statusOf(err)
}

func (s *catalogServer) UpdateTool(ctx context.Context, req *catalogv1.UpdateToolRequest) (*catalogv1.Tool, error) {
	m, err := s.update(ctx, "tool", "tools", storage.KindTool, req.GetTool(), req.GetTool().GetName(), req.GetTool().GetEtag(), req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	return m.(*catalogv1.Tool), nil
}

func (s *catalogServer) UpdateUseCase(ctx context.Context, req *catalogv1.UpdateUseCaseRequest) (*catalogv1.UseCase, error) {
	m, err := s.update(ctx, "use_case", "usecases", storage.KindUseCase, req.GetUseCase(), req.GetUseCase().GetName(), req.GetUseCase().GetEtag(), req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	return m.(*catalogv1.UseCase), nil
}

// maxUpdateRetries bounds how often an update without an etag is retried
// when another write slips in between its read and its write. Each retry
// follows a write that succeeded, so that clients updating one record at
// once all get through (a dozen took more than the 3 retries there were).
const maxUpdateRetries = 100

// update reads the current version, applies the masked fields of patch,
// validates the result and writes it only if the record did not change in
// between (the client's etag, or the version read). Nothing is lost: a
// concurrent write makes this one fail or retry, never disappear.
func (s *catalogServer) update(ctx context.Context, field, collection string, k storage.Kind, patch proto.Message, name, etag string, mask *fieldmaskpb.FieldMask) (proto.Message, error) {
	if patch == nil || !patch.ProtoReflect().IsValid() {
		return nil, invalidField(field, "is required")
	}
	origin, id, err := validate.ParseName(name, collection)
	if err != nil {
		return nil, invalidField(field+".name", "%v", err)
	}
	if err := s.ownOrigin(origin); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		current, err := s.store.Get(ctx, k, origin, id)
		if err != nil {
			return nil, statusOf(err)
		}
		ifEtag := etag
		if ifEtag == "" {
			ifEtag = etagOf(current)
		} else if ifEtag != etagOf(current) {
			return nil, status.Errorf(codes.Aborted, "%s changed since etag %q (now %q): read it again and reapply your change", name, etag, etagOf(current))
		}
		next := proto.Clone(current)
		applied, err := applyMask(next, patch, mask, outputOnly())
		if err != nil {
			return nil, invalidField("update_mask", "%v", err)
		}
		if err := keepHarvestMark(current, next, patch, field, mask); err != nil {
			return nil, err
		}
		// Compared once the harvest's mark is settled: a client's
		// entry_hash, which the API drops, changes nothing.
		if applied == 0 || proto.Equal(next, current) {
			return current, nil // nothing to change, so nothing to write
		}
		var v violations
		validateResource(&v, field, next)
		if err := v.err(); err != nil {
			return nil, err
		}
		out, err := s.store.Apply(ctx, []storage.Write{{Op: storage.OpReplace, ID: id, Resource: next, IfEtag: ifEtag}})
		if errors.Is(err, storage.ErrStale) && etag == "" {
			if attempt < maxUpdateRetries && ctx.Err() == nil {
				continue
			}
			// The client sent no etag: the one at fault is this node's.
			return nil, status.Errorf(codes.Aborted, "%s changed %d times while this update was applied: try again", name, attempt+1)
		}
		if err != nil {
			return nil, statusOf(err)
		}
		return s.qualified(out[0]), nil
	}
}

func (s *catalogServer) DeleteTool(ctx context.Context, req *catalogv1.DeleteToolRequest) (*emptypb.Empty, error) {
	return s.delete(ctx, req.GetName(), "tools", storage.KindTool, req.GetEtag())
}

func (s *catalogServer) DeleteUseCase(ctx context.Context, req *catalogv1.DeleteUseCaseRequest) (*emptypb.Empty, error) {
	return s.delete(ctx, req.GetName(), "usecases", storage.KindUseCase, req.GetEtag())
}

func (s *catalogServer) delete(ctx context.Context, name, collection string, k storage.Kind, etag string) (*emptypb.Empty, error) {
	origin, id, err := validate.ParseName(name, collection)
	if err != nil {
		return nil, invalidField("name", "%v", err)
	}
	if err := s.ownOrigin(origin); err != nil {
		return nil, err
	}
	if _, err := s.store.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: k, ID: id, IfEtag: etag}}); err != nil {
		return nil, statusOf(err)
	}
	return &emptypb.Empty{}, nil
}

func (s *catalogServer) ListTools(ctx context.Context, req *catalogv1.ListToolsRequest) (*catalogv1.ListToolsResponse, error) {
	q, err := toolQuery(req.GetQuery(), req.GetOrigin(), req.GetCategory(), req.GetOgpTheme(), req.GetLicense(), req.GetLanguage(), req.GetDevelopmentStatus(), req.GetPlatform(), req.GetCriterion())
	if err != nil {
		return nil, err
	}
	q.CollapseDuplicates = req.GetCollapseDuplicates()
	key := proto.Clone(req).(*catalogv1.ListToolsRequest)
	key.PageSize, key.PageToken = 0, ""
	ms, next, total, err := s.list(ctx, q, req.GetOrderBy(), req.GetPageSize(), req.GetPageToken(), key)
	if err != nil {
		return nil, err
	}
	resp := &catalogv1.ListToolsResponse{NextPageToken: next, TotalSize: int64(total)}
	for _, m := range ms {
		resp.Tools = append(resp.Tools, m.(*catalogv1.Tool))
	}
	return resp, nil
}

func (s *catalogServer) ListUseCases(ctx context.Context, req *catalogv1.ListUseCasesRequest) (*catalogv1.ListUseCasesResponse, error) {
	q, err := useCaseQuery(req.GetQuery(), req.GetOrigin(), req.GetTool(), req.GetCountry(), req.GetOrganizationKind(), req.GetStatus(), req.GetCommitment())
	if err != nil {
		return nil, err
	}
	key := proto.Clone(req).(*catalogv1.ListUseCasesRequest)
	key.PageSize, key.PageToken = 0, ""
	ms, next, total, err := s.list(ctx, q, req.GetOrderBy(), req.GetPageSize(), req.GetPageToken(), key)
	if err != nil {
		return nil, err
	}
	resp := &catalogv1.ListUseCasesResponse{NextPageToken: next, TotalSize: int64(total)}
	for _, m := range ms {
		resp.UseCases = append(resp.UseCases, m.(*catalogv1.UseCase))
	}
	return resp, nil
}

// list runs a paged search. key is the request without its paging fields:
// page tokens are bound to it.
func (s *catalogServer) list(ctx context.Context, q storage.Query, orderBy string, pageSize int32, pageToken string, key proto.Message) (ms []proto.Message, next string, total int, err error) {
	var v violations
	switch {
	case pageSize < 0:
		v.add("page_size", "%d is negative", pageSize)
	case pageSize == 0:
		pageSize = defaultPageSize
	case pageSize > maxPageSize:
		pageSize = maxPageSize
	}
	fp := queryFingerprint(key)
	after, err := decodePageToken(pageToken, fp)
	if err != nil {
		v.add("page_token", "%v", err)
	}
	parseOrderBy(&v, &q, orderBy)
	if q.Text != "" {
		if err := storage.CheckText(q.Text); err != nil {
			v.add("query", "%v", err)
		}
	}
	if err := v.err(); err != nil {
		return nil, "", 0, err
	}
	q.Limit, q.After, q.MaxBytes = int(pageSize)+1, after, maxPageBytes
	hits, total, err := s.store.SearchPage(ctx, q)
	if err != nil {
		return nil, "", 0, statusOf(err)
	}
	// Whether more follow is the index's word, of the same state as the
	// total: a record of the page deleted before it was read is left out
	// of it, and must not end the listing. The records past what a page
	// holds are not read: the page ends before them.
	if i := slices.IndexFunc(hits, func(h storage.Hit) bool { return h.Unread }); i > 0 && i <= int(pageSize) {
		hits = hits[:i]
		next = encodePageToken(hits[i-1].Cursor, fp)
	} else if len(hits) > int(pageSize) {
		hits = hits[:pageSize]
		next = encodePageToken(hits[len(hits)-1].Cursor, fp)
	}
	var cursors []storage.Cursor
	for _, h := range hits {
		if h.Record != nil {
			ms = append(ms, h.Record)
			cursors = append(cursors, h.Cursor)
		}
	}
	if n := fitPage(ms); n < len(ms) {
		ms = ms[:n]
		next = encodePageToken(cursors[n-1], fp)
	}
	return ms, next, total, nil
}

// fitPage is how many of ms, from the first, a page holds: those within
// maxPageBytes, one at least, so that large records (a member's tool may
// carry a hundred long descriptions, a harvest report 256 KiB of rejected
// entries) cannot make an answer larger than a client takes: gRPC's
// default is 4 MiB a message.
func fitPage[M proto.Message](ms []M) int {
	size := 0
	for i, m := range ms {
		if size += proto.Size(m); size > maxPageBytes && i > 0 {
			return i
		}
	}
	return len(ms)
}

// parseOrderBy reads "field" or "field desc" into q.
func parseOrderBy(v *violations, q *storage.Query, orderBy string) {
	fields := strings.Fields(orderBy)
	if len(fields) == 0 {
		return
	}
	allowed := map[string]string{"relevance": "relevance", "create_time": "create_time", "update_time": "update_time"}
	if q.Kind == storage.KindTool {
		allowed["display_name"] = "name"
		allowed["score"] = "score"
	}
	order, ok := allowed[fields[0]]
	switch {
	case !ok || len(fields) > 2 || (len(fields) == 2 && fields[1] != "desc" && fields[1] != "asc"):
		v.add("order_by", "%q is not an order: use relevance, create_time or update_time (or display_name or score for tools), optionally followed by desc", orderBy)
	case order == "relevance" && strings.TrimSpace(q.Text) == "":
		v.add("order_by", "relevance needs a query")
	}
	q.Order, q.Desc = order, len(fields) == 2 && fields[1] == "desc"
}

func (s *catalogServer) GetToolFacets(ctx context.Context, req *catalogv1.GetToolFacetsRequest) (*catalogv1.GetToolFacetsResponse, error) {
	q, err := toolQuery(req.GetQuery(), req.GetOrigin(), req.GetCategory(), req.GetOgpTheme(), req.GetLicense(), req.GetLanguage(), req.GetDevelopmentStatus(), req.GetPlatform(), req.GetCriterion())
	if err != nil {
		return nil, err
	}
	q.CollapseDuplicates = req.GetCollapseDuplicates()
	total, facets, err := s.facets(ctx, q)
	if err != nil {
		return nil, err
	}
	return &catalogv1.GetToolFacetsResponse{TotalSize: total, Facets: facets}, nil
}

func (s *catalogServer) GetUseCaseFacets(ctx context.Context, req *catalogv1.GetUseCaseFacetsRequest) (*catalogv1.GetUseCaseFacetsResponse, error) {
	q, err := useCaseQuery(req.GetQuery(), req.GetOrigin(), req.GetTool(), req.GetCountry(), req.GetOrganizationKind(), req.GetStatus(), req.GetCommitment())
	if err != nil {
		return nil, err
	}
	total, facets, err := s.facets(ctx, q)
	if err != nil {
		return nil, err
	}
	return &catalogv1.GetUseCaseFacetsResponse{TotalSize: total, Facets: facets}, nil
}

func (s *catalogServer) facets(ctx context.Context, q storage.Query) (int64, []*catalogv1.Facet, error) {
	if q.Text != "" {
		if err := storage.CheckText(q.Text); err != nil {
			return 0, nil, invalidField("query", "%v", err)
		}
	}
	total, counts, unlisted, err := s.store.FacetsListed(ctx, q)
	if err != nil {
		return 0, nil, statusOf(err)
	}
	byField := map[string]*catalogv1.Facet{}
	var out []*catalogv1.Facet
	for _, name := range storage.FacetNames(q.Kind) {
		f := &catalogv1.Facet{Field: name, UnlistedValueCount: unlisted[name]}
		byField[name] = f
		out = append(out, f)
	}
	for _, c := range counts {
		if f := byField[c.Facet]; f != nil {
			f.Values = append(f.Values, &catalogv1.FacetValue{Value: c.Value, Count: c.Count})
		}
	}
	return total, out, nil
}

// toolQuery is a tools search; criteria all must be met, where the values
// of other filters are alternatives.
func toolQuery(text string, origin, category []string, themes []catalogv1.OgpTheme, license, language, status, platform, criteria []string) (storage.Query, error) {
	themeNames := make([]string, len(themes))
	for i, t := range themes {
		themeNames[i] = t.String()
	}
	langs := make([]string, len(language))
	for i, l := range language {
		if langs[i] = qualify.Language(l); langs[i] == "" && strings.TrimSpace(l) != "" {
			return storage.Query{}, invalidField(fmt.Sprintf("language[%d]", i), "%q names no language: give a BCP 47 language tag (en, pt-BR)", l)
		}
	}
	licenses := make([]string, len(license))
	for i, l := range license {
		filed, err := licenseFiled(l)
		if err != nil {
			return storage.Query{}, invalidField(fmt.Sprintf("license[%d]", i), "%v", err)
		}
		licenses[i] = filed
	}
	q := storage.Query{Kind: storage.KindTool, Text: strings.TrimSpace(text), Filters: []storage.Filter{
		{Facet: "origin", Values: origin}, {Facet: "category", Values: category}, {Facet: "ogp_theme", Values: themeNames},
		{Facet: "license", Values: licenses}, {Facet: "language", Values: langs},
		{Facet: "development_status", Values: status}, {Facet: "platform", Values: platform},
	}}
	if err := checkFilters(q.Filters); err != nil {
		return q, err
	}
	seen := map[string]bool{}
	for i, c := range criteria {
		if !slices.Contains(qualify.IDs(), c) {
			return q, invalidField(fmt.Sprintf("criterion[%d]", i), "%q is not a criterion: use %s", c, strings.Join(qualify.IDs(), ", "))
		}
		if !seen[c] { // each criterion a filter of its own: met, all of them
			seen[c] = true
			q.Filters = append(q.Filters, storage.Filter{Facet: "criterion", Values: []string{c}})
		}
	}
	return q, nil
}

// maxFilterValues is the most values a query's filter takes (the web
// pages take 50): each value the index holds walks every record with it,
// under the index's lock, and a request of 1 MiB repeats a value 100,000
// times.
const maxFilterValues = 100

// checkFilters refuses a filter of more than maxFilterValues values, and
// leaves each filter's values once each. Filters are named by the
// request's fields.
func checkFilters(filters []storage.Filter) error {
	for i, f := range filters {
		if len(f.Values) > maxFilterValues {
			return invalidField(f.Facet, "has %d values: a query takes at most %d a filter", len(f.Values), maxFilterValues)
		}
		for j, v := range f.Values {
			if strings.TrimSpace(v) == "" { // a parameter given empty (category=) filtered every tool out
				return invalidField(fmt.Sprintf("%s[%d]", f.Facet, j), "is empty")
			}
		}
		if len(f.Values) > 1 {
			filters[i].Values = distinct(f.Values)
		}
	}
	return nil
}

// distinct is values without repeats, in their first order (a copy).
func distinct(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// licenseFiled is a license filter's value as the index files licenses
// (spdx.Expression.Filed: identifiers match whatever their case and
// however they are written, "gpl-3.0+" is GPL-3.0-or-later). A value that
// is no expression is taken as it is: a peer's record may hold anything,
// and its facet value must be a filter too. An expression of several
// licenses is refused: the index files each apart.
func licenseFiled(license string) (string, error) {
	e, err := spdx.Parse(license)
	if err != nil {
		return license, nil
	}
	ids := e.Filed()
	if len(ids) > 1 {
		return "", fmt.Errorf("%q names %d licenses: give each as a value of its own (license=%s&license=%s)", license, len(ids), ids[0], ids[1])
	}
	return ids[0], nil
}

// qualified is a written resource as the API returns it: a tool with its
// qualification. The store's indexer reads the resource the write
// returned, so the qualification goes on a copy.
func (s *catalogServer) qualified(m proto.Message) proto.Message {
	if _, ok := m.(*catalogv1.Tool); !ok {
		return m
	}
	m = proto.Clone(m)
	s.store.SetQualification(m)
	return m
}

func (s *catalogServer) GetToolAdoption(ctx context.Context, req *catalogv1.GetToolAdoptionRequest) (*catalogv1.ToolAdoption, error) {
	origin, id, err := validate.ParseName(req.GetName(), "tools")
	if err != nil {
		return nil, invalidField("name", "%v", err)
	}
	a, err := s.store.AdoptionWithin(ctx, origin, id, adoptionWhole, shortRecord)
	if err != nil {
		return nil, statusOf(err)
	}
	// The tool asked about first: it stays whole.
	tools := slices.Clone(a.Tools)
	if i := slices.IndexFunc(tools, func(t *catalogv1.Tool) bool { return t.GetName() == req.GetName() }); i > 0 {
		tools[0], tools[i] = tools[i], tools[0]
	}
	out := &catalogv1.ToolAdoption{Tool: req.GetName(), Software: a.Software, Tools: tools}
	byCountry := map[string]*catalogv1.CountryAdoption{}
	country := func(c string) *catalogv1.CountryAdoption {
		if byCountry[c] == nil {
			byCountry[c] = &catalogv1.CountryAdoption{Country: c}
		}
		return byCountry[c]
	}
	for _, t := range a.Tools {
		ca := country(envelope.CountryOfOrigin(t.GetOrigin()))
		if !slices.Contains(ca.Origins, t.GetOrigin()) {
			ca.Origins = append(ca.Origins, t.GetOrigin())
		}
	}
	for _, u := range a.UseCases {
		ca := country(envelope.UseCaseCountry(u.GetOrganization().GetCountry()))
		ca.UseCases = append(ca.UseCases, u)
	}
	for _, ca := range byCountry {
		out.Countries = append(out.Countries, ca)
	}
	slices.SortFunc(out.Countries, func(a, b *catalogv1.CountryAdoption) int { return strings.Compare(a.Country, b.Country) })
	abridgeAdoption(out, a.Abridged)
	return out, nil
}

// adoptionWhole and adoptionMost bound an adoption answer, which lists
// every record of a software, from every member: records are whole while
// the answer stays under adoptionWhole, abridged while it stays under
// adoptionMost, and left out after, so that it fits the 4 MiB a gRPC
// client takes by default, as a read of one tool does (a tool may have 2
// MiB; a peer's records are not validated at all).
const adoptionWhole, adoptionMost = 3 << 20, 7 << 19

// abridgeAdoption keeps out within adoptionMost, the tool asked about
// (the first) whole, and counts what it abridged and left out: the
// records read abridged (see shortRecord) too.
func abridgeAdoption(out *catalogv1.ToolAdoption, readAbridged map[proto.Message]bool) {
	size := proto.Size(&catalogv1.ToolAdoption{Tool: out.Tool, Software: out.Software}) + 64
	for _, ca := range out.Countries {
		size += len(ca.Country) + 16
		for _, o := range ca.Origins {
			size += len(o) + 8
		}
	}
	// keep says whether m, its short form being short (m itself when it
	// was read abridged), stays in the answer, and as which.
	keep := func(m, short proto.Message) (proto.Message, bool) {
		if whole := proto.Size(m); !readAbridged[m] && size+whole+8 <= adoptionWhole {
			size += whole + 8
			return m, true
		}
		if n := proto.Size(short) + 8; size+n <= adoptionMost {
			size += n
			out.AbridgedRecords++
			return short, true
		}
		out.OmittedRecords++
		return nil, false
	}
	kept := out.Tools[:0]
	for i, t := range out.Tools {
		if i == 0 {
			size += proto.Size(t) + 8
			kept = append(kept, t)
			continue
		}
		if m, ok := keep(t, shortRecord(t)); ok {
			kept = append(kept, m.(*catalogv1.Tool))
		}
	}
	out.Tools = kept
	for _, ca := range out.Countries {
		kept := ca.UseCases[:0]
		for _, u := range ca.UseCases {
			if m, ok := keep(u, shortRecord(u)); ok {
				kept = append(kept, m.(*catalogv1.UseCase))
			}
		}
		ca.UseCases = kept
	}
}

// shortRecord is a tool or use case abridged for an adoption: what names
// it and places it (its country, its organisation), without its text.
func shortRecord(m proto.Message) proto.Message {
	switch r := m.(type) {
	case *catalogv1.Tool:
		return &catalogv1.Tool{Name: r.GetName(), Origin: r.GetOrigin(), DisplayName: r.GetDisplayName()}
	case *catalogv1.UseCase:
		return &catalogv1.UseCase{Name: r.GetName(), Origin: r.GetOrigin(), Tool: r.GetTool(), Organization: r.GetOrganization(), Status: r.GetStatus()}
	}
	return m
}

func useCaseQuery(text string, origin, tool, country []string, kinds []catalogv1.OrganizationKind, statuses []catalogv1.UseCaseStatus, commitment []string) (storage.Query, error) {
	kindNames := make([]string, len(kinds))
	for i, k := range kinds {
		if k == catalogv1.OrganizationKind_ORGANIZATION_KIND_UNSPECIFIED {
			return storage.Query{}, invalidField("organization_kind", "%s is no kind of organisation: every use case has one", k)
		}
		kindNames[i] = k.String()
	}
	statusNames := make([]string, len(statuses))
	for i, st := range statuses {
		statusNames[i] = st.String()
	}
	countries := make([]string, len(country))
	for i, c := range country {
		// UK finds the use cases of GB, the United Kingdom's code.
		countries[i] = envelope.UseCaseCountry(c)
	}
	q := storage.Query{Kind: storage.KindUseCase, Text: strings.TrimSpace(text), Filters: []storage.Filter{
		{Facet: "origin", Values: origin}, {Facet: "tool", Values: tool}, {Facet: "country", Values: countries},
		{Facet: "organization_kind", Values: kindNames}, {Facet: "status", Values: statusNames}, {Facet: "commitment", Values: commitment},
	}}
	return q, checkFilters(q.Filters)
}

func (s *catalogServer) GetNodeInfo(ctx context.Context, _ *catalogv1.GetNodeInfoRequest) (*catalogv1.NodeInfo, error) {
	counts, err := s.store.Counts(ctx)
	if err != nil {
		return nil, statusOf(err)
	}
	info := &catalogv1.NodeInfo{Origin: s.store.Origin(), PublicKey: s.store.PublicKey(), Version: s.version}
	for _, c := range counts {
		info.ToolCount += c.Tools
		info.UseCaseCount += c.UseCases
		info.TombstoneCount += c.Tombstones
		info.Origins = append(info.Origins, &catalogv1.OriginCounts{
			Origin: c.Origin, ToolCount: c.Tools, UseCaseCount: c.UseCases, TombstoneCount: c.Tombstones, HeadSeq: c.HeadSeq,
		})
	}
	return info, nil
}

func validateResource(v *violations, field string, m proto.Message) {
	switch r := m.(type) {
	case *catalogv1.Tool:
		validate.Tool(&v.Violations, field, r)
	case *catalogv1.UseCase:
		validate.UseCase(&v.Violations, field, r)
	}
}

func clearOutputOnly(m proto.Message) {
	r := m.ProtoReflect()
	for name := range outputOnly() {
		if fd := r.Descriptor().Fields().ByName(protoreflect.Name(name)); fd != nil {
			r.Clear(fd)
		}
	}
}

// setManualProvenance marks a tool typed in through the API as manual
// unless the client says where it comes from.
func setManualProvenance(m proto.Message) {
	if t, ok := m.(*catalogv1.Tool); ok && t.GetProvenance().GetKind() == catalogv1.ProvenanceKind_PROVENANCE_KIND_UNSPECIFIED {
		if t.Provenance == nil {
			t.Provenance = &catalogv1.Provenance{}
		}
		t.Provenance.Kind = catalogv1.ProvenanceKind_PROVENANCE_KIND_MANUAL
	}
}

// clearEntryHash drops what a client says of a harvest's write from a tool
// created through the API, which no harvest wrote (see
// Provenance.entry_hash).
func clearEntryHash(m proto.Message) {
	if t, ok := m.(*catalogv1.Tool); ok && t.GetProvenance() != nil {
		t.Provenance.EntryHash, t.Provenance.EntrySeq = nil, 0
	}
}

// keepHarvestMark gives next, the version of a tool an edit through the
// API makes, the provenance of current when a harvest wrote current or an
// earlier version, with the seq of the harvest's version: the edit is made
// by hand since that seq (see Provenance.entry_seq). The provenance of a
// harvested tool is the harvest's to say: an edit that would change it
// (the mask names it, or is of every field and patch has one) is refused;
// one that sends it as read, or leaves it out, passes. Other tools'
// provenance is the client's, without a harvest's mark.
func keepHarvestMark(current, next, patch proto.Message, field string, mask *fieldmaskpb.FieldMask) error {
	cur, ok := current.(*catalogv1.Tool)
	if !ok {
		return nil
	}
	t := next.(*catalogv1.Tool)
	if len(cur.GetProvenance().GetEntryHash()) == 0 {
		clearEntryHash(t)
		return nil
	}
	kept := proto.Clone(cur.GetProvenance()).(*catalogv1.Provenance)
	sent := patch.(*catalogv1.Tool).GetProvenance() != nil
	if masksProvenance(mask) || (fullMask(mask) && sent) {
		asked := proto.Clone(t.GetProvenance()).(*catalogv1.Provenance)
		if asked == nil {
			asked = &catalogv1.Provenance{}
		}
		asked.EntryHash, asked.EntrySeq, asked.HarvestTime = kept.EntryHash, kept.EntrySeq, kept.HarvestTime
		if !proto.Equal(asked, kept) {
			return invalidField(field+".provenance", "is the harvest's: the provenance of a harvested tool (source %q, entry %q) cannot be changed through the API", kept.GetSource(), kept.GetSourceId())
		}
	}
	t.Provenance = kept
	if t.Provenance.EntrySeq == 0 {
		t.Provenance.EntrySeq = cur.GetSeq()
	}
	return nil
}

// fullMask reports whether mask takes every field the patch holds: empty
// (the fields the patch holds), or "*" (every field).
func fullMask(mask *fieldmaskpb.FieldMask) bool {
	paths := mask.GetPaths()
	return len(paths) == 0 || (len(paths) == 1 && paths[0] == "*")
}

// masksProvenance reports whether mask names the provenance, or a field of
// it, rather than every field.
func masksProvenance(mask *fieldmaskpb.FieldMask) bool {
	for _, p := range mask.GetPaths() {
		if p == "provenance" || strings.HasPrefix(p, "provenance.") {
			return true
		}
	}
	return false
}

func etagOf(m proto.Message) string {
	switch r := m.(type) {
	case *catalogv1.Tool:
		return r.GetEtag()
	case *catalogv1.UseCase:
		return r.GetEtag()
	}
	return ""
}

// slug derives an id from a title: "Démocratie Ouverte!" gives
// "democratie-ouverte"; a title of no letter or digit, "record-" and a
// random suffix.
func slug(title string) string {
	if s := envelope.IDFrom(title, 50); s != "" {
		return s
	}
	return slugWithSuffix("record")
}

func slugWithSuffix(base string) string {
	raw := make([]byte, 5)
	rand.Read(raw)
	return base + "-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))
}
