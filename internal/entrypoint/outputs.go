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

package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/asyncjob/asyncjob/internal/artifact"
)

// outputFile is one file to upload.
type outputFile struct {
	path string // as found, absolute or relative to the working directory
	name string // its artifact name: the base name
}

// findOutputs expands the output patterns, relative ones against dir (the
// command's working directory). A glob that matches nothing, or only
// directories, is no error: a type may declare outputs a job does not
// always produce. A literal path must be a regular file.
func findOutputs(patterns []string, dir string, inputs []string) ([]outputFile, error) {
	var out []outputFile
	byName := map[string]string{}
	for _, pattern := range patterns {
		p := pattern
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		literal := !strings.ContainsAny(pattern, `*?[\`)
		matches := []string{p}
		if !literal {
			var err error
			if matches, err = filepath.Glob(p); err != nil {
				return nil, fmt.Errorf("the output pattern %s: %v", pattern, err)
			}
		}
		for _, m := range matches {
			fi, err := os.Stat(m) // a symbolic link counts as what it points to
			switch {
			case literal && errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("the output %s was not produced", m)
			case err != nil:
				return nil, fmt.Errorf("the output %s: %v", m, unwrapPath(err))
			case !fi.Mode().IsRegular() && literal:
				return nil, fmt.Errorf("the output %s is not a regular file", m)
			case !fi.Mode().IsRegular():
				continue
			}
			name := filepath.Base(m)
			if prev, ok := byName[name]; ok {
				if prev == filepath.Clean(m) {
					continue // matched by two patterns
				}
				return nil, fmt.Errorf("the outputs %s and %s have the same name %s", prev, m, name)
			}
			if err := artifact.ValidName(name); err != nil {
				return nil, fmt.Errorf("the output %s: %v", m, err)
			}
			if slices.Contains(inputs, name) {
				return nil, fmt.Errorf("the output %s has the name of an input; a job's files have different names", m)
			}
			byName[name] = filepath.Clean(m)
			out = append(out, outputFile{path: m, name: name})
		}
	}
	return out, nil
}

// uploadOutputs uploads the successful command's outputs, one after the
// other, before the entrypoint exits: the job completes only once they are
// stored. The first that cannot be uploaded fails the job.
func uploadOutputs(ctx context.Context, cfg Config, cb *callbacks, log logr.Logger) error {
	files, err := findOutputs(cfg.Outputs, cfg.InputsDir, cfg.Inputs)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		log.Info("No output to upload", "patterns", strings.Join(cfg.Outputs, " "))
	}
	for _, f := range files {
		start := time.Now()
		ct := contentType(f.name)
		var size int64
		err := cb.retryFile(ctx, "output "+f.name, cfg.TransferRetry, func(ctx context.Context) error {
			n, err := cb.upload(ctx, f.path, f.name, ct)
			size = n
			return err
		})
		if err != nil {
			log.Error(err, "Could not upload an output", "output", f.path)
			return fmt.Errorf("could not upload the output %s: %s", f.path, transferWhy(err))
		}
		log.Info("Uploaded an output", "output", f.path, "name", f.name, "bytes", size, "contentType", ct, "took", time.Since(start).Round(time.Millisecond).String())
	}
	return nil
}

// mediaTypes are the types of the media files a conversion writes, which Go's
// own table lacks; mime.TypeByExtension would otherwise depend on the image's
// /etc/mime.types.
var mediaTypes = map[string]string{
	".webm": "video/webm", ".mp4": "video/mp4", ".mkv": "video/x-matroska",
	".mov": "video/quicktime", ".m4a": "audio/mp4", ".mp3": "audio/mpeg",
	".ogg": "audio/ogg", ".wav": "audio/wav",
	".flac": "audio/flac", ".aac": "audio/aac",
}

// contentType is the media type of an output, from its extension.
func contentType(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
