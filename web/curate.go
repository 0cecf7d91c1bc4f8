package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// formView is the content of a form page, tool or use case alike: the
// fields are laid out in Go, and one template renders any of them.
type formView struct {
	Heading   string
	Action    string
	Submit    string
	Cancel    string
	Notice    string // a change by someone else, refused
	Fieldsets []fieldset
	Errors    *formErrors
	Hidden    [][2]string
}

// confirmView is the content of a delete's confirmation.
type confirmView struct {
	Question string
	Action   string
	Cancel   string
	Etag     string
	Notice   string
	// Title is the record's, said once it is deleted; Stay, the records
	// of this node that name it, and stay (a tool's use cases).
	Title string
	Stay  []string
}

// doneView is the content of the page after a delete.
type doneView struct {
	Message string
}

// authorized is ctx with the admin token for a write: the session proved
// the curator holds it, and the API checks it again.
func (s *Server) authorized(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.cfg.AdminToken)
}

// ownOnly refuses to curate a record of another origin: only its own node
// writes it. It answers and returns false when the origin is not ours.
func (s *Server) ownOnly(w http.ResponseWriter, r *http.Request) bool {
	if o := r.PathValue("origin"); o != s.cfg.Origin {
		s.errorPage(w, r, http.StatusForbidden, "error.not_own", "", o, s.cfg.Origin)
		return false
	}
	return true
}

// addViolations puts an API error's field violations beside their inputs,
// named in the summary by the input's label when the page has one (p),
// else by the API's field path; it returns false when the error has none
// (it is not the form's fault).
func addViolations(p *page, errs *formErrors, err error, input func(string) string) bool {
	vs := violations(err)
	for _, v := range vs {
		in, label := input(v.GetField()), v.GetField()
		if l := p.T("form." + in); in != "" && l != "form."+in {
			label = l
		}
		msg, lang := v.GetDescription(), "en"
		if lm := v.GetLocalizedMessage(); lm.GetLocale() == p.Lang && lm.GetMessage() != "" {
			msg, lang = lm.GetMessage(), ""
		}
		errs.addAPI(in, label, msg, lang)
	}
	return len(vs) > 0
}

// A resource is a record of the API that the pages curate: a tool or a
// use case.
type resource interface {
	proto.Message
	GetName() string
	GetEtag() string
}

// formBase is what the form of every kind of record holds besides its
// fields.
type formBase struct {
	ID   string // the new record's id (create only)
	Name string // the record's resource name (edit only)
	Etag string // the version the edit started from
}

func (b *formBase) base() *formBase { return b }

// A recordForm is the form of one kind of record, R, as typed: it keeps
// what the curator wrote, so that a refused form comes back as it was sent.
type recordForm[R resource] interface {
	base() *formBase
	// record is the record the form describes. What the form itself cannot
	// read goes to errs; everything else is the API's to check.
	record(errs *formErrors, p *page) R
	// input is the form's input of a field path of the record, "" when
	// no input holds it.
	input(path string) string
	// create makes rec, the record the form describes, in parent, with the
	// form's id.
	create(ctx context.Context, c catalogv1.CatalogServiceClient, parent string, rec R) (R, error)
	// update writes rec, the record the form describes, but only the
	// fields the form edits: what it does not show (provenance) stays as
	// it was.
	update(ctx context.Context, c catalogv1.CatalogServiceClient, rec R) (R, error)
	// fields are the fields of the record the form edits.
	fields() []string
	// editing gives the form the version of the record it edits, when
	// it is still current: a field the curator left as the form showed
	// it keeps that version's value, which the form's text may not hold
	// exactly (see sameText).
	editing(was R)
	// title names the record for people, in the titles of its edit page
	// and of its delete's confirmation.
	title() string
	// view lays the form out, with errs beside their inputs: its fieldsets
	// (create adds the id of the new record), the hidden fields the form
	// needs to read itself, and where a new record's form goes back to.
	view(p *page, errs *formErrors, create bool) formView
}

// A curation serves the pages that create, edit and delete the node's own
// records of one kind; every kind goes through the same steps, and states
// only what differs: its names, its form (F), and how to get and delete a
// record.
type curation[R resource, F recordForm[R]] struct {
	s *Server
	// kind names the kind as the API does in field paths ("use_case.url",
	// "use_case_id", the new record's id), and as the message keys of its
	// pages' titles do (key); with spaces for underscores, in the log.
	kind string
	// collection is the kind's collection in resource names and the pages'
	// paths: "usecases".
	collection string

	blank  func(r *http.Request, p *page) F // the form of a new record
	parse  func(url.Values) F               // a posted form
	formOf func(R) F                        // the form of a record, to edit it

	get    func(ctx context.Context, name string) (R, error)
	remove func(ctx context.Context, name, etag string) (*emptypb.Empty, error)
	// naming, when set, gives the titles of the records of this node
	// that name the record (a tool's use cases), which its delete leaves.
	naming func(ctx context.Context, name string) []string
}

// routes adds the kind's forms to mux: /tools/new, /tools/{origin}/{id}/edit
// and /tools/{origin}/{id}/delete for tools.
func (c *curation[R, F]) routes(mux *http.ServeMux) {
	s, path := c.s, "/"+c.collection
	mux.Handle(path+"/new", s.methods(s.signedIn(c.newForm), s.signedIn(c.createRecord)))
	record := func(h http.HandlerFunc) http.HandlerFunc { return s.recordPath(c.collection, s.signedIn(h)) }
	mux.Handle(path+"/{origin}/{id}/edit", s.methods(record(c.editForm), record(c.updateRecord)))
	mux.Handle(path+"/{origin}/{id}/delete", s.methods(record(c.confirmDelete), record(c.deleteRecord)))
}

// key is the message key of the title of the kind's page of action, "new"
// or "edit": "form.new_use_case".
func (c *curation[R, F]) key(action string) string { return "form." + action + "_" + c.kind }

// name is the resource name of a page's {origin}/{id}.
func (c *curation[R, F]) name(r *http.Request) string { return recordName(r, c.collection) }

// input is the input of f that holds an API field path: the new record's
// id ("tool_id"), or a field of the record ("tool.display_name"). It is ""
// for a path no input holds.
func (c *curation[R, F]) input(f F) func(path string) string {
	return func(path string) string {
		if path == c.kind+"_id" {
			return path
		}
		if field, ok := strings.CutPrefix(path, c.kind+"."); ok {
			return f.input(field)
		}
		return ""
	}
}

// url is the page of a record's resource name.
func (c *curation[R, F]) url(name string) string { return pagePath(name, c.collection) }

func (c *curation[R, F]) render(w http.ResponseWriter, r *http.Request, p *page, code int, f F, errs *formErrors, notice string) {
	b := f.base()
	create := b.Name == ""
	v := f.view(p, errs, create)
	v.Fieldsets, v.Errors, v.Notice = labelFields(p, v.Fieldsets), errs, notice
	if create {
		p.Title = p.T(c.key("new"))
		v.Heading, v.Action, v.Submit = p.Title, "/"+c.collection+"/new", p.T("form.create")
	} else {
		p.Title = p.T(c.key("edit"), f.title())
		v.Heading, v.Action, v.Submit, v.Cancel = p.Title, c.url(b.Name)+"/edit", p.T("form.save"), c.url(b.Name)
		v.Hidden = append(v.Hidden, [2]string{"etag", b.Etag})
	}
	if errs.Any() || notice != "" {
		// Said first in the title, which a screen reader reads first: the
		// page sent back looked the same as the empty form.
		p.Title = p.T("form.error") + " " + p.Title
	}
	p.Content = v
	c.s.render(w, r, code, "form", p)
}

func (c *curation[R, F]) newForm(w http.ResponseWriter, r *http.Request) {
	p := c.s.newPage(w, r, c.key("new"))
	c.render(w, r, p, http.StatusOK, c.blank(r, p), &formErrors{}, "")
}

func (c *curation[R, F]) createRecord(w http.ResponseWriter, r *http.Request) {
	c.save(w, r, c.s.newPage(w, r, c.key("new")), c.parse(r.PostForm))
}

func (c *curation[R, F]) editForm(w http.ResponseWriter, r *http.Request) {
	if rec, ok := c.current(w, r); ok {
		c.showed(r, rec)
		c.render(w, r, c.s.newPage(w, r, "form.edit"), http.StatusOK, c.formOf(rec), &formErrors{}, "")
	}
}

// showed remembers, in the request's session, the version of a record an
// edit form shows, for an edit posted once the record changed (merge).
func (c *curation[R, F]) showed(r *http.Request, rec R) {
	if sess := sessionOf(r); sess != nil {
		sess.showed(rec.GetName(), rec.GetEtag(), rec)
	}
}

// shown is the version of name of etag an edit form of the request's
// session showed, if it remembers it.
func (c *curation[R, F]) shown(r *http.Request, name, etag string) (R, bool) {
	var rec R
	sess := sessionOf(r)
	if sess == nil {
		return rec, false
	}
	m, ok := sess.shown(name, etag)
	if ok {
		rec, ok = m.(R)
	}
	return rec, ok
}

func (c *curation[R, F]) updateRecord(w http.ResponseWriter, r *http.Request) {
	if !c.s.ownOnly(w, r) {
		return
	}
	p := c.s.newPage(w, r, "form.edit")
	f := c.parse(r.PostForm)
	f.base().Name = c.name(r)
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	was, err := c.get(ctx, f.base().Name)
	cancel()
	switch {
	case err != nil: // gone, or the API fails: the update says which
	case was.GetEtag() != f.base().Etag:
		// Someone changed the record since the form was opened: said
		// before the form is read against a version it was not made
		// from (a line it showed might not read back), as save says it
		// when the update is refused as stale.
		c.changedMeanwhile(w, r, p, f, was)
		return
	default:
		f.editing(was)
	}
	c.save(w, r, p, f)
}

// changedMeanwhile answers an edit posted once its record changed since the
// form was opened: current is the version now. The edit is merged with
// the change, field by field, when the session remembers the version the
// form showed: saved when no field changed both ways, else shown merged,
// the fields both changed marked, keeping the curator's; a save then
// keeps them, and the change to the others. Without that version (a
// restart), the form comes back as it was posted, to save again over the
// change once the curator has looked at it.
func (c *curation[R, F]) changedMeanwhile(w http.ResponseWriter, r *http.Request, p *page, f F, current R) {
	base, ok := c.shown(r, f.base().Name, f.base().Etag)
	if !ok {
		f.base().Etag = current.GetEtag()
		c.render(w, r, p, http.StatusConflict, f, &formErrors{}, p.T("form.conflict"))
		return
	}
	f.editing(base)
	var errs formErrors
	mine := f.record(&errs, p)
	if errs.Any() { // posted with the version it was made from, merged at the next save
		c.render(w, r, p, http.StatusBadRequest, f, &errs, "")
		return
	}
	merged, conflicts := mergeEdits(base, mine, current, f.fields())
	if len(conflicts) == 0 {
		c.write(w, r, p, f, merged)
		return
	}
	c.showed(r, current)
	shown := c.formOf(merged) // current's etag, and the curator's values where both changed
	input := c.input(shown)
	for _, field := range conflicts {
		in, label := input(c.kind+"."+field), field
		if l := p.T("form." + in); in != "" && l != "form."+in {
			label = l
		}
		msg := p.T("form.err_changed_meanwhile")
		if v := fieldText(current, field); v != "" {
			msg = p.T("form.err_changed_meanwhile_to", v)
		}
		errs.add(in, label, msg)
	}
	c.render(w, r, p, http.StatusConflict, shown, &errs, p.T("form.conflict_merged"))
}

// save writes what a posted form describes: a new record, or the fields
// the form edits of the record it names. A refused form comes back with
// its errors beside their inputs.
func (c *curation[R, F]) save(w http.ResponseWriter, r *http.Request, p *page, f F) {
	var errs formErrors
	rec := f.record(&errs, p)
	if errs.Any() {
		c.render(w, r, p, http.StatusBadRequest, f, &errs, "")
		return
	}
	c.write(w, r, p, f, rec)
}

// write writes rec, what f describes (or f merged with a change made
// meanwhile), as save does.
func (c *curation[R, F]) write(w http.ResponseWriter, r *http.Request, p *page, f F, rec R) {
	var errs formErrors
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	// The API's violations in the page's language, when it has them there.
	ctx = metadata.AppendToOutgoingContext(ctx, "accept-language", p.Lang)
	b := f.base()
	create := b.Name == ""
	name, done := b.Name, "updated"
	var err error
	if create {
		var created R
		created, err = f.create(c.s.authorized(ctx), c.s.catalog, "origins/"+c.s.cfg.Origin, rec)
		name, done = created.GetName(), "created"
	} else {
		_, err = f.update(c.s.authorized(ctx), c.s.catalog, rec)
	}
	switch {
	case err == nil:
		c.s.log.Info(done+" a "+strings.ReplaceAll(c.kind, "_", " ")+" from the pages", "name", name)
		http.Redirect(w, r, c.url(name), http.StatusSeeOther)
	case addViolations(p, &errs, err, c.input(f)):
		c.render(w, r, p, http.StatusBadRequest, f, &errs, "")
	case create && status.Code(err) == codes.AlreadyExists:
		errs.add(c.kind+"_id", p.T("form."+c.kind+"_id"), p.T("form.err_id_taken"))
		c.render(w, r, p, http.StatusConflict, f, &errs, "")
	case !create && status.Code(err) == codes.Aborted:
		// Someone changed the record between the form's read of it and
		// the write.
		if current, ok := c.fetch(ctx, w, r, b.Name); ok {
			if rec.GetEtag() != b.Etag { // a merged edit, changed again: look at it
				b.Etag = current.GetEtag()
				c.render(w, r, p, http.StatusConflict, f, &errs, p.T("form.conflict"))
				return
			}
			c.changedMeanwhile(w, r, p, f, current)
		}
	default:
		c.s.formAPIError(w, r, err)
	}
}

func (c *curation[R, F]) confirmDelete(w http.ResponseWriter, r *http.Request) {
	if rec, ok := c.current(w, r); ok {
		c.confirm(w, r, http.StatusOK, rec, "")
	}
}

// confirm asks to confirm the delete of rec; noticeKey, when set, says why
// it asks again.
func (c *curation[R, F]) confirm(w http.ResponseWriter, r *http.Request, code int, rec R, noticeKey string) {
	title, url := c.formOf(rec).title(), c.url(rec.GetName())
	p := c.s.newPage(w, r, "confirm.title")
	p.Title = p.T("confirm.title_of", title)
	v := confirmView{Question: p.T("confirm.question", title), Action: url + "/delete", Cancel: url, Etag: rec.GetEtag(), Title: title}
	if noticeKey != "" {
		v.Notice = p.T(noticeKey)
	}
	if c.naming != nil {
		ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
		v.Stay = c.naming(ctx, rec.GetName())
		cancel()
	}
	p.Content = v
	c.s.render(w, r, code, "confirm", p)
}

// deleteRecord deletes the record, or, when it changed since the
// confirmation was shown, asks again with its current version.
func (c *curation[R, F]) deleteRecord(w http.ResponseWriter, r *http.Request) {
	if !c.s.ownOnly(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	name := c.name(r)
	_, err := c.remove(c.s.authorized(ctx), name, r.PostFormValue("etag"))
	switch {
	case err == nil:
		c.s.log.Info("deleted a record from the pages", "name", name)
		p := c.s.newPage(w, r, "done.title")
		// By the title the confirmation gave (the curator's to send):
		// the record is gone to ask for it.
		p.Content = doneView{Message: p.T("done.deleted", cmp.Or(strings.TrimSpace(r.PostFormValue("title")), name))}
		c.s.render(w, r, http.StatusOK, "done", p)
	case status.Code(err) == codes.Aborted:
		if current, ok := c.fetch(ctx, w, r, name); ok {
			c.confirm(w, r, http.StatusConflict, current, "confirm.changed")
		}
	default:
		c.s.apiError(w, r, err)
	}
}

// current is the record of the page's {origin}/{id}, to curate. It
// answers and returns false when the record is another origin's or the API
// fails.
func (c *curation[R, F]) current(w http.ResponseWriter, r *http.Request) (R, bool) {
	if !c.s.ownOnly(w, r) {
		var none R
		return none, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	return c.fetch(ctx, w, r, c.name(r))
}

// fetch gets the record of name; on error it answers with the error's page
// and returns false.
func (c *curation[R, F]) fetch(ctx context.Context, w http.ResponseWriter, r *http.Request, name string) (R, bool) {
	rec, err := c.get(ctx, name)
	return rec, !c.s.failed(w, r, err)
}
