package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/ogptoolbox/federation/validate"
	"golang.org/x/text/language"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// violations collects what is wrong with a request, field by field, so that
// one answer names every problem.
type violations struct {
	validate.Violations
}

func (v *violations) add(field, format string, args ...any) { v.Add(field, format, args...) }

// err is nil if nothing was wrong, else INVALID_ARGUMENT with a
// google.rpc.BadRequest naming each field.
func (v *violations) err() error {
	if len(v.List) == 0 {
		return nil
	}
	list := make([]*errdetails.BadRequest_FieldViolation, len(v.List))
	for i, f := range v.List {
		list[i] = &errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.Description}
	}
	msg := list[0].GetField() + ": " + list[0].GetDescription()
	if len(list) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(list)-1)
	}
	st, err := status.New(codes.InvalidArgument, msg).WithDetails(&errdetails.BadRequest{FieldViolations: list})
	if err != nil {
		return status.Error(codes.InvalidArgument, msg)
	}
	return &invalidRequest{st: st, list: v.List}
}

// invalidRequest is the answer to a request with violations: the status,
// and the violations it says, which localize can say in the caller's
// language.
type invalidRequest struct {
	st   *status.Status
	list []validate.Violation
}

func (e *invalidRequest) Error() string              { return e.st.Err().Error() }
func (e *invalidRequest) GRPCStatus() *status.Status { return e.st }

// localize gives each violation of err, when it is an invalidRequest, its
// localized message in the language the caller asks for (the
// Accept-Language of a REST call, which the gateway passes on, or the
// accept-language metadata of a gRPC call), when that is one the
// violations are written in besides English: the web pages of a French
// reader show it beside the field. Other errors are as they were.
func localize(ctx context.Context, err error) error {
	var inv *invalidRequest
	if !errors.As(err, &inv) {
		return err
	}
	lang := requestLanguage(ctx)
	if lang == "" {
		return err
	}
	p := inv.st.Proto()
	for i, d := range p.GetDetails() {
		var br errdetails.BadRequest
		if d.UnmarshalTo(&br) != nil || len(br.GetFieldViolations()) != len(inv.list) {
			continue
		}
		for j, fv := range br.GetFieldViolations() {
			if msg, ok := inv.list[j].Localized(lang); ok {
				fv.LocalizedMessage = &errdetails.LocalizedMessage{Locale: lang, Message: msg}
			}
		}
		if a, err := anypb.New(&br); err == nil {
			p.Details[i] = a
		}
	}
	return status.FromProto(p).Err()
}

// requestLanguage is the language other than English, of those violations
// are written in, that the caller prefers, or "".
func requestLanguage(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	var prefs []language.Tag
	for _, key := range []string{"accept-language", "grpcgateway-accept-language"} {
		for _, h := range md.Get(key) {
			if tags, _, err := language.ParseAcceptLanguage(h); err == nil {
				prefs = append(prefs, tags...)
			}
		}
	}
	if len(prefs) == 0 {
		return ""
	}
	// English first: the one a caller who asks for none of them gets.
	written := []language.Tag{language.English, language.French}
	_, i, confidence := language.NewMatcher(written).Match(prefs...)
	if i == 0 || confidence == language.No {
		return ""
	}
	base, _ := written[i].Base()
	return base.String()
}

// invalidField is INVALID_ARGUMENT naming one field.
func invalidField(field, format string, args ...any) error {
	var v violations
	v.add(field, format, args...)
	return v.err()
}
