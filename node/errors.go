package node

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode"

	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// statusOf maps an error from storage to the gRPC status clients see. It is
// the one place where domain errors become codes; grpc-gateway then maps
// codes to HTTP (NOT_FOUND 404, ABORTED 409, INVALID_ARGUMENT 400...).
func statusOf(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, storage.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, storage.ErrStale):
		return status.Error(codes.Aborted, err.Error()+": read the record again and reapply your change")
	case errors.Is(err, storage.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, storage.ErrUnavailable):
		return status.Error(codes.Unavailable, err.Error())
	case storage.DiskFull(err):
		// gRPC's code for a file system out of space: the client may
		// retry once the operator freed some (nothing was written).
		return status.Error(codes.ResourceExhausted, "this node's disk is full: nothing was written; retry once its operator has freed space")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	// Internal details stay in the log (the interceptor logs them).
	return status.Error(codes.Internal, "internal error: "+err.Error())
}

// Errors of the gateway's own decoding of a request, before the API sees
// it: protojson's, which name a field by its JSON name ("ogpThemes"), a
// query parameter's, and the JSON decoder's.
var (
	// protobuf-go writes a space or, at random, a no-break space after
	// "proto:" and elsewhere, so that no one relies on its texts: they
	// are read here only to name a field, and shown whole.
	protojsonField = regexp.MustCompile(`^proto:[ \x{00a0}](?:syntax error[ \x{00a0}])?\(line \d+:\d+\):[ \x{00a0}](?:.*[ \x{00a0}]field[ \x{00a0}]([A-Za-z0-9_]+):|unknown[ \x{00a0}]field[ \x{00a0}]"([^"]+)")`)
	queryField     = regexp.MustCompile(`^parsing (?:field|list) "([^"]+)": `)
)

// decodeViolation gives an error of the gateway's decoding of a request
// (a body that is not JSON of the resource's shape, a query parameter of
// the wrong type) the field violation every other bad input gets, naming
// the field as the API names it (proto names: "ogp_themes"), or "body"
// when the error names none. Other errors are returned as they are.
func decodeViolation(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument || len(st.Details()) > 0 {
		return err
	}
	msg := st.Message()
	field := ""
	switch {
	case strings.HasPrefix(msg, "proto:"):
		field, msg = "body", strings.TrimLeft(strings.TrimPrefix(msg, "proto:"), " \u00a0")
		if m := protojsonField.FindStringSubmatch(st.Message()); m != nil {
			field = snakeCase(m[1] + m[2])
			if m[1] != "" { // say it as the API does, in the text too
				msg = strings.Replace(msg, m[1]+":", field+":", 1)
			}
		}
	case queryField.MatchString(msg):
		m := queryField.FindStringSubmatch(msg)
		field, msg = m[1], strings.TrimPrefix(msg, m[0])
	case msg == "unexpected EOF" || strings.HasPrefix(msg, "invalid character") || strings.HasPrefix(msg, "json:"):
		field, msg = "body", "the body is not JSON: "+msg
	default:
		return err
	}
	withDetails, derr := status.New(codes.InvalidArgument, field+": "+msg).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}},
	})
	if derr != nil {
		return err
	}
	return withDetails.Err()
}

// snakeCase is a lowerCamel JSON name as its proto field name.
func snakeCase(name string) string {
	var b strings.Builder
	for _, r := range name {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
