/*
Copyright 2026 The asyncjob Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func init() {
	subcommands["install-entrypoint"] = runInstallEntrypoint
}

// runInstallEntrypoint copies this binary to a path: the init container the
// controller adds to a type with entrypoint Inject runs it in the project's
// image, which has no shell and no cp, to put the entrypoint into the pod's
// emptyDir.
func runInstallEntrypoint(args []string) error {
	fs := flag.NewFlagSet("asyncjob install-entrypoint", flag.ContinueOnError)
	fs.Usage = func() {
		_, _ = fmt.Fprintln(fs.Output(), "usage: asyncjob install-entrypoint DEST\n\nCopies this asyncjob binary to DEST, mode 0755, for `DEST entrypoint -- COMMAND...`.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("install-entrypoint: want exactly one destination")
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install-entrypoint: finding this binary: %w", err)
	}
	return copyExecutable(self, fs.Arg(0))
}

// copyExecutable copies src to dst with mode 0755, whatever the umask. It
// writes a temporary file next to dst and renames it, so dst is either absent
// or complete: a container that starts while a retried copy runs never
// executes half a binary.
func copyExecutable(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, in); err != nil {
		return err
	}
	if err = tmp.Chmod(0o755); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
