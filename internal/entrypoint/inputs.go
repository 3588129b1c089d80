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
	"fmt"
	"time"

	"github.com/go-logr/logr"
)

// downloadInputs fetches every input into cfg.InputsDir, one after the other,
// before the command starts. The first that cannot be fetched fails the
// job: the command would only fail later, less clearly.
func downloadInputs(ctx context.Context, cfg Config, cb *callbacks, log logr.Logger) error {
	for _, name := range cfg.Inputs {
		start := time.Now()
		var size int64
		err := cb.retryFile(ctx, "input "+name, cfg.TransferRetry, func(ctx context.Context) error {
			n, err := cb.download(ctx, name, cfg.InputsDir)
			size = n
			return err
		})
		if err != nil {
			log.Error(err, "Could not download an input", "input", name)
			return fmt.Errorf("could not download the input %s: %s; the command did not run", name, transferWhy(err))
		}
		log.Info("Downloaded an input", "input", name, "bytes", size, "took", time.Since(start).Round(time.Millisecond).String())
	}
	return nil
}
