package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ogptoolbox/federation/storage"
)

// The files of a data folder.
const (
	catalogFile    = "catalog.db"
	keyFile        = "node.key"
	adminTokenFile = "admin-token"
	// restoredFile marks a data folder made by a backup: see BackupDataDir.
	restoredFile = "restored-from-backup"
)

// loadOrCreateKey reads the node's Ed25519 key from the data folder
// (PKCS #8, PEM), or creates it there, readable by the owner only, on a
// first start: when the folder holds no catalog yet. A catalog without
// its key is refused, and no key made: another would not open the
// catalog, and would stand where the backup's must go back.
func loadOrCreateKey(dataDir string) (ed25519.PrivateKey, bool, error) {
	path := filepath.Join(dataDir, keyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := keyNotLost(dataDir); err != nil {
			return nil, false, err
		}
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, false, fmt.Errorf("create node key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, false, fmt.Errorf("create node key: %w", err)
		}
		if err := writeNewFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
			return nil, false, fmt.Errorf("create node key: %w", err)
		}
		return key, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read node key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, false, fmt.Errorf("read node key %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, false, fmt.Errorf("read node key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, false, fmt.Errorf("read node key %s: a %T, not an Ed25519 key", path, k)
	}
	return key, false, nil
}

// keyNotLost refuses a data folder that holds a catalog but not its key:
// the node does not start, and nothing is made in the folder (a new key
// or token would stand where the backup's go back).
func keyNotLost(dataDir string) error {
	if _, err := os.Stat(filepath.Join(dataDir, keyFile)); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dataDir, catalogFile)); err == nil {
		return fmt.Errorf("the data folder %s holds a catalog but not its key, %s: restore the key from a backup of the folder (a new key would not open the catalog)", dataDir, keyFile)
	}
	return nil
}

// catalogFiles are the paths of the files of the catalog of dataDir.
func catalogFiles(dataDir string) []string {
	path := filepath.Join(dataDir, catalogFile)
	return []string{path, path + "-wal", path + "-shm"}
}

// removeMade removes the files at paths, those of made that are true: what
// a first start made before it failed.
func removeMade(paths []string, made func(string) bool) error {
	var errs []error
	for _, path := range paths {
		if !made(path) {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove what the failed first start made: %w", err))
		}
	}
	return errors.Join(errs...)
}

// markWritesHeld writes in the data folder dataDir the file that says its
// catalog lacks records of its origin that its federation holds, and why
// (see HoldsWrites). It fails with fs.ErrExist if the file is there.
func markWritesHeld(dataDir, why string) error {
	note := why + ".\n" +
		"A node started on this folder holds its writes until a member of its federation has given back the records of its origin its catalog lacks, and then deletes this file.\n" +
		"Delete it to let the node write without them (those records are then lost to it, and the seqs it writes may be held already by its peers).\n"
	return writeNewFile(filepath.Join(dataDir, restoredFile), []byte(note))
}

// HoldsWrites reports whether the data folder says its catalog lacks
// records of its origin that its federation holds (restored from a
// backup, or made anew after it was wiped), and the path of the file that
// says so: a node started on it holds its writes until a member has given
// them back, and then deletes the file.
func HoldsWrites(dataDir string) (marker string, ok bool) {
	marker = filepath.Join(dataDir, restoredFile)
	_, err := os.Stat(marker)
	return marker, err == nil
}

// RememberedMembers is how many members of a federation the catalog of
// dataDir remembers, read without changing it: a command that refuses a
// catalog of a federation must refuse it before opening it, which
// migrates it, and an ogpnode before could then no longer open it.
func RememberedMembers(ctx context.Context, dataDir string) (int, error) {
	return storage.RememberedMembers(ctx, filepath.Join(dataDir, catalogFile))
}

// KeyWithoutCatalog reports whether the data folder holds the node's key
// and no catalog: its catalog was wiped (or moved away), and the records
// of its origin it signed are held by its federation only. A catalog made
// anew would write from seq 1 again, seqs its members hold already, which
// never reach them.
func KeyWithoutCatalog(dataDir string) bool {
	_, keyErr := os.Stat(filepath.Join(dataDir, keyFile))
	_, catErr := os.Stat(filepath.Join(dataDir, catalogFile))
	return keyErr == nil && errors.Is(catErr, fs.ErrNotExist)
}

// minTokenLength keeps guessable admin tokens out.
const minTokenLength = 16

// adminToken finds the admin token: the file given, else the token given
// (from the environment), else the data folder's admin-token file, created
// with a random token on first start. It returns the token and, when it
// created the file, its path.
func adminToken(cfg Config) (token, created string, err error) {
	switch {
	case cfg.AdminTokenFile != "":
		b, err := os.ReadFile(cfg.AdminTokenFile)
		if err != nil {
			return "", "", fmt.Errorf("--admin-token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
		if len(token) < minTokenLength {
			return "", "", fmt.Errorf("--admin-token-file %s: the token must be at least %d characters", cfg.AdminTokenFile, minTokenLength)
		}
		return token, "", nil
	case strings.TrimSpace(cfg.AdminToken) != "":
		// Trimmed as a token shown is: a secret made of a file written
		// with echo ends with a newline, which no client sends.
		token = strings.TrimSpace(cfg.AdminToken)
		if len(token) < minTokenLength {
			return "", "", fmt.Errorf("OGPNODE_ADMIN_TOKEN: the token must be at least %d characters", minTokenLength)
		}
		return token, "", nil
	}
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	b, err := os.ReadFile(path)
	if err == nil {
		token = strings.TrimSpace(string(b))
		if len(token) < minTokenLength {
			return "", "", fmt.Errorf("admin token file %s: the token must be at least %d characters", path, minTokenLength)
		}
		return token, "", nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("read admin token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("create admin token: %w", err)
	}
	token = hex.EncodeToString(raw)
	if err := writeNewFile(path, []byte(token+"\n")); err != nil {
		return "", "", fmt.Errorf("create admin token: %w", err)
	}
	return token, path, nil
}

// writeNewFile creates path, readable by the owner only, and fails if it
// exists: a secret is never overwritten. The file appears whole or not at
// all, even through a crash of the machine: written beside, synced, then
// linked to its name (which fails if the name is taken), and the folder
// synced. A key cut short by a power cut would have been "not a PEM
// PRIVATE KEY" for ever, and its catalog lost with it.
func writeNewFile(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s: %w", path, fs.ErrExist)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // the name written beside: once linked, the file keeps its own
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// A file system without hard links (some network and FUSE
		// mounts): renamed to its name, which the check above found free.
		if err := os.Rename(f.Name(), path); err != nil {
			return err
		}
	}
	return storage.SyncFile(dir)
}

// lockFile is held, locked, by the one process that uses a data folder.
const lockFile = "lock"

// lockDataDir takes the data folder's lock, which the returned file holds
// until it is closed: two processes writing one catalog would each keep a
// search index the other's writes never reach.
func lockDataDir(dir, hint string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data folder %s is in use by another ogpnode process (%s)", dir, hint)
		}
		return nil, fmt.Errorf("lock data folder %s: %w", dir, err)
	}
	return f, nil
}

// Catalog is a data folder's catalog opened without serving it, as
// ogpnode harvest --data does.
type Catalog struct {
	Store *storage.Store
	lock  *os.File
}

// OpenCatalog opens the catalog of a data folder for origin, creating the
// folder and the node key on first use as serve does. It fails while a
// node or another process has the folder.
func OpenCatalog(ctx context.Context, origin, dataDir string, log *slog.Logger) (*Catalog, error) {
	if err := checkOrigin(origin); err != nil { // before the folder and its key are made
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	lock, err := lockDataDir(dataDir, "to harvest into a running node, use --node")
	if err != nil {
		return nil, err
	}
	store, _, err := openWithKey(ctx, dataDir, storage.Options{Origin: origin, Logger: log}, "")
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &Catalog{Store: store, lock: lock}, nil
}

// openWithKey opens the catalog of dataDir with the node's key, which it
// makes on a first start (created), and opts' other settings. A first start
// whose catalog could not be made, or was refused (for a trust list that
// names the node under another key), leaves nothing behind: neither the
// key (a key without a catalog is what a wiped folder holds, and the next
// start would take the folder for one) nor the catalog's files nor the
// admin token at tokenPath, made by the same start, if not empty.
func openWithKey(ctx context.Context, dataDir string, opts storage.Options, tokenPath string) (_ *storage.Store, created bool, err error) {
	opts.Path = filepath.Join(dataDir, catalogFile)
	there := map[string]bool{}
	for _, path := range catalogFiles(dataDir) {
		_, err := os.Lstat(path)
		there[path] = !errors.Is(err, fs.ErrNotExist)
	}
	if opts.Key, created, err = loadOrCreateKey(dataDir); err != nil {
		return nil, false, err
	}
	store, err := storage.Open(ctx, opts)
	if err != nil {
		if created && !there[opts.Path] {
			made := append(catalogFiles(dataDir), filepath.Join(dataDir, keyFile), tokenPath)
			err = errors.Join(err, removeMade(made, func(path string) bool { return path != "" && !there[path] }))
		}
		return nil, false, err
	}
	return store, created, nil
}

// Close closes the catalog and lets the folder go.
func (c *Catalog) Close() error {
	err := c.Store.Close()
	return errors.Join(err, c.lock.Close())
}

// BackupDataDir copies what the data folder dataDir must keep into dest, a
// folder it makes (it must not exist): the catalog as it was at one moment
// (storage.Backup, beside a node that runs on the folder), the node's key,
// without which the catalog does not open, and the admin token if the
// folder holds it. Restoring is putting dest in the folder's place, the
// node stopped. The backup is made in a folder beside dest, synced, then
// renamed dest: a backup that fails, or is killed, leaves nothing at dest
// (a folder whose name says it is unfinished, at worst).
func BackupDataDir(ctx context.Context, dataDir, dest string) (err error) {
	if _, err := os.Stat(filepath.Join(dataDir, catalogFile)); err != nil {
		return fmt.Errorf("back up %s: no catalog: %w", dataDir, err)
	}
	if _, err := os.Lstat(dest); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("back up %s: %s exists already", dataDir, dest)
	}
	parent := filepath.Dir(filepath.Clean(dest))
	if err := os.MkdirAll(parent, 0o700); err != nil { // /backups, the first time
		return fmt.Errorf("back up %s: %w", dataDir, err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dest)+".unfinished-")
	if err != nil {
		return fmt.Errorf("back up %s: %w", dataDir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := storage.Backup(ctx, filepath.Join(dataDir, catalogFile), filepath.Join(tmp, catalogFile)); err != nil {
		return err
	}
	if err := storage.SyncFile(filepath.Join(tmp, catalogFile)); err != nil {
		return fmt.Errorf("back up %s: %w", dataDir, err)
	}
	for _, name := range []string{keyFile, adminTokenFile} {
		b, err := os.ReadFile(filepath.Join(dataDir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist) && name == adminTokenFile:
			continue // given by a file elsewhere, or the environment
		case err != nil:
			return fmt.Errorf("back up %s: %w", dataDir, err)
		}
		if err := writeNewFile(filepath.Join(tmp, name), b); err != nil {
			return fmt.Errorf("back up %s: %w", dataDir, err)
		}
	}
	// The copy says it is one: a node started on it, once restored,
	// holds its writes until a member of its federation has given back
	// the records of its origin written since.
	if err := markWritesHeld(tmp, fmt.Sprintf("This folder was made by ogpnode backup from %s at %s: restored, its catalog lacks the records of its origin written since",
		dataDir, time.Now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("back up %s: %w", dataDir, err)
	}
	if err := storage.SyncFile(tmp); err != nil {
		return fmt.Errorf("back up %s: %w", dataDir, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("back up %s: %w", dataDir, err)
	}
	if err := storage.SyncFile(parent); err != nil {
		return fmt.Errorf("back up %s: %w", dataDir, err)
	}
	return nil
}

// warnReadableSecrets warns of each file of a secret ("" for none given)
// whose mode grants what mask holds (0o007: any user of the machine): a
// restore by cp, an rsync without -p or a chmod -R can leave the node's
// key, which signs its origin's records for years, readable by all. The
// node still starts: the secret may have leaked already, which the
// operator judges.
func warnReadableSecrets(log *slog.Logger, mask fs.FileMode, paths ...string) {
	for _, path := range paths {
		if path == "" {
			continue
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm()&mask == 0 {
			continue
		}
		log.Warn("a secret's file is readable by other users of the machine: make it readable by the node's user alone (chmod 600), and replace the secret if others may have read it",
			"path", path, "mode", st.Mode().Perm().String())
	}
}
