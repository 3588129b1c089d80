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

// Command ffmpeg-image builds an ffmpeg image without Docker, from Debian's
// packages (docs/image.md, "The ffmpeg image"): apt resolves the closure of
// ffmpeg and dash as for an empty system, apt-get download fetches the
// .debs, dpkg-deb -x unpacks them, and the image keeps ffmpeg, ffprobe,
// dash as /bin/sh and only the shared libraries they link, found by reading
// their ELF headers. The image archive (docker-save format, for ctr images
// import) is cached in the cache directory keyed by the packages' versions,
// so a second run with the same package index only prints its path, on the
// last line of stdout. The local cluster's real node imports it
// (localcluster.Cluster.LoadFFmpegImage); hack/ffmpeg-image.sh runs it.
//
//	go run ./hack/ffmpeg-image [--ref asyncjob.local/ffmpeg:debian12] [--cache DIR]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/asyncjob/asyncjob/internal/ociimage"
)

// layout names how this command turns packages into an image: change it
// when the image's tree changes, so cached archives are rebuilt.
const layout = "ffmpeg-image/2"

// roots are the packages asked for; the image's programs come from them.
var (
	roots    = []string{"ffmpeg", "dash"}
	programs = []string{"usr/bin/ffmpeg", "usr/bin/ffprobe"}
)

func main() {
	ref := flag.String("ref", "asyncjob.local/ffmpeg:debian12", "the image's name in the archive")
	cache := flag.String("cache", defaultCache(), "the cache directory (the archive goes to DIR/ffmpeg-image/KEY/image.tar)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	path, err := run(ctx, *ref, *cache)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ffmpeg-image:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "ffmpeg-image: "+format+"\n", args...) }

// defaultCache is hack/k8s-binaries.sh's: $ASYNCJOB_CACHE, else
// $XDG_CACHE_HOME/asyncjob, else ~/.cache/asyncjob.
func defaultCache() string {
	if v := os.Getenv("ASYNCJOB_CACHE"); v != "" {
		return v
	}
	if v := os.Getenv("XDG_CACHE_HOME"); v != "" {
		return filepath.Join(v, "asyncjob")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "asyncjob")
}

func run(ctx context.Context, ref, cache string) (string, error) {
	start := time.Now()
	base := filepath.Join(cache, "ffmpeg-image")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	pkgs, err := resolve(ctx, base, roots)
	if err != nil {
		return "", err
	}
	key := cacheKey(ref, pkgs)
	archive := filepath.Join(base, key, "image.tar")
	if _, err := os.Stat(archive); err == nil {
		return archive, nil
	}
	// One build at a time per cache: a second caller waits, then finds it.
	unlock, err := lock(filepath.Join(base, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(archive); err == nil {
		return archive, nil
	}
	logf("building %s from %d Debian packages (cache key %s)", ref, len(pkgs), key)
	work, err := os.MkdirTemp(base, "build-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(work) }()
	debs, tree, image := filepath.Join(work, "debs"), filepath.Join(work, "rootfs"), filepath.Join(work, "image")
	for _, d := range []string{debs, tree, image} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", err
		}
	}
	step := time.Now()
	if err := download(ctx, debs, pkgs); err != nil {
		return "", err
	}
	logf("downloaded in %s", time.Since(step).Round(time.Millisecond))
	step = time.Now()
	if err := extract(ctx, debs, tree, pkgs); err != nil {
		return "", err
	}
	r, err := indexRootfs(tree)
	if err != nil {
		return "", err
	}
	dash, err := findProgram(r, "dash")
	if err != nil {
		return "", err
	}
	c, err := r.closure(append(programs, dash))
	if err != nil {
		return "", err
	}
	if err := assemble(r, c, pkgs, image); err != nil {
		return "", err
	}
	logf("unpacked; the image keeps %d programs and %d libraries (%s)", len(c.programs), len(c.libraries), time.Since(step).Round(time.Millisecond))
	step = time.Now()
	img, err := ociimage.FromDir(image, ociimage.DirOptions{
		Entrypoint: []string{"/usr/bin/ffmpeg"},
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		CreatedBy:  "hack/ffmpeg-image: " + strings.Join(roots, " ") + " from Debian packages",
		LayerTar:   filepath.Join(work, "layer.tar"),
		Labels: map[string]string{
			ociimage.LabelTitle:   "ffmpeg",
			ociimage.LabelVersion: versionOf(pkgs, "ffmpeg"),
			ociimage.LabelSource:  "https://github.com/asyncjob/asyncjob (hack/ffmpeg-image)",
			"org.opencontainers.image.description": "Debian's ffmpeg and ffprobe with the libraries they link, and dash as /bin/sh; " +
				"licences in /usr/share/doc/*/copyright",
		},
	})
	if err != nil {
		return "", err
	}
	if err := ociimage.WriteArchive(archive, ref, img); err != nil {
		return "", err
	}
	if err := writePackages(filepath.Join(base, key, "packages.txt"), pkgs); err != nil {
		return "", err
	}
	fi, err := os.Stat(archive)
	if err != nil {
		return "", err
	}
	logf("wrote %s (%.1f MB) in %s; built in %s", archive, float64(fi.Size())/1e6,
		time.Since(step).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return archive, nil
}

// cacheKey names the archive after what it is made of: the layout, the
// ref and every package's name, version and architecture.
func cacheKey(ref string, pkgs []pkg) string {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%s\n%s\n", layout, ref)
	for _, p := range pkgs {
		_, _ = fmt.Fprintf(h, "%s %s %s\n", p.Name, p.Version, p.Arch)
	}
	return versionOf(pkgs, "ffmpeg") + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// versionOf is the package's version as a file-name-safe string
// (7:5.1.9-0+deb12u1 is 5.1.9-0-deb12u1).
func versionOf(pkgs []pkg, name string) string {
	for _, p := range pkgs {
		if p.Name == name {
			v := p.Version
			if _, after, ok := strings.Cut(v, ":"); ok {
				v = after
			}
			return strings.NewReplacer("+", "-", "~", "-").Replace(v)
		}
	}
	return "unknown"
}

func findProgram(r *rootfs, name string) (string, error) {
	for _, p := range r.byName[name] {
		if filepath.Base(filepath.Dir(p)) == "bin" {
			return p, nil
		}
	}
	return "", fmt.Errorf("no package of the closure has a program %s", name)
}

func writePackages(path string, pkgs []pkg) error {
	var b strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&b, "%s %s %s\n", p.Name, p.Version, p.Arch)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, errors.Join(errors.New("locking the ffmpeg image's cache"), err)
	}
	return func() { _ = f.Close() }, nil
}
