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

package localcluster

import (
	"context"
	"errors"
	"sync"
)

// FFmpegImage is Debian's ffmpeg (with ffprobe and /bin/sh) as the real
// node knows it once LoadFFmpegImage has run; pods use it with
// imagePullPolicy Never. hack/ffmpeg-image builds it (docs/image.md).
const FFmpegImage = "asyncjob.local/ffmpeg:debian12"

// ffmpegLoad makes LoadFFmpegImage import once per cluster.
type ffmpegLoad struct {
	once sync.Once
	err  error
}

// LoadFFmpegImage imports FFmpegImage into the real node's containerd,
// building it first through hack/ffmpeg-image.sh when the cache does not
// have it for the package index's versions (about two minutes cold, with
// the download; seconds when cached). It is not imported at start, since
// only the tests and `make dev` that convert media need it. Later calls
// return the first one's outcome.
func (c *Cluster) LoadFFmpegImage(ctx context.Context) error {
	if c.realNode == nil {
		return errors.New("localcluster: the ffmpeg image is for the real node (Options.RealNode)")
	}
	l := &c.realNode.ffmpeg
	l.once.Do(func() {
		var archive string
		if archive, l.err = runScript(ctx, "ffmpeg-image.sh", "--ref", FFmpegImage); l.err != nil {
			return
		}
		l.err = c.realNode.ctr(ctx, "-n", "k8s.io", "images", "import", archive)
	})
	return l.err
}
