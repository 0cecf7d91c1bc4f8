package node

import (
	"fmt"

	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	return st.Err()
}

// invalidField is INVALID_ARGUMENT naming one field.
func invalidField(field, format string, args ...any) error {
	var v violations
	v.add(field, format, args...)
	return v.err()
}
