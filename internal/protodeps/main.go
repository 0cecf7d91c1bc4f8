// Command protodeps copies the third-party protos that ogpnode's API imports
// (google/api for the HTTP annotations, google/rpc for error details, and
// protoc-gen-openapiv2/options for what the OpenAPI document says of
// security) into the git-ignored folder .protodeps/googleapis, where
// buf.yaml finds them.
//
// The googleapis protos come from their copies inside the grpc-gateway
// v1.16.0 module, the OpenAPI options from the grpc-gateway v2 module
// go.mod requires, each located with `go mod download -json`, so
// generation needs no network but the Go module proxy, and no proto the
// project does not own is ever committed. Run it from the module root
// before `go tool buf generate` (`go generate .` runs both).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// sourceModule is the module whose third_party/googleapis folder holds the
// protos; pinned so that generation is reproducible.
const sourceModule = "github.com/grpc-ecosystem/grpc-gateway@v1.16.0"

func main() {
	out := flag.String("out", ".protodeps/googleapis", "folder to copy the protos into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "protodeps:", err)
		os.Exit(1)
	}
}

// optionsModule holds the OpenAPI options, at the version go.mod requires
// (its generated Go package, which the API's code imports, is that one).
const optionsModule = "github.com/grpc-ecosystem/grpc-gateway/v2"

func run(out string) error {
	dir, err := moduleDir(sourceModule)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("clear %s: %w", out, err)
	}
	if err := copyProtos(filepath.Join(dir, "third_party", "googleapis"), out); err != nil {
		return err
	}
	v2, err := moduleDir(optionsModule)
	if err != nil {
		return err
	}
	const options = "protoc-gen-openapiv2/options"
	return copyProtos(filepath.Join(v2, options), filepath.Join(out, options))
}

// copyProtos copies the .proto files under src to the same places under
// out.
func copyProtos(src, out string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".proto") {
			return nil
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		dst := filepath.Join(out, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		// Files in the module cache are read-only; the copies need not be.
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", dst, err)
		}
		return nil
	})
}

// moduleDir downloads mod (through the Go module proxy, or from the module
// cache when it is already there) and returns its folder.
func moduleDir(mod string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct {
		Dir   string
		Error string
	}
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %v: %s", mod, runErr, stderr.String())
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	if info.Dir == "" {
		return "", errors.New("go mod download " + mod + ": no folder in its answer")
	}
	return info.Dir, nil
}
