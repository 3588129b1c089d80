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

package stack

import (
	"context"
	"slices"
)

// artifactStoreArgs puts Options.ArtifactStoreURL on both command lines,
// before ControllerArgs and APIArgs, which may override it.
func (s *Stack) artifactStoreArgs() {
	if u := s.opts.ArtifactStoreURL; u != "" {
		flag := "--artifact-store-url=" + u
		s.opts.ControllerArgs = append([]string{flag}, s.opts.ControllerArgs...)
		s.opts.APIArgs = append([]string{flag}, s.opts.APIArgs...)
	}
}

// Reconfigure stops every controller and API replica, appends
// controllerArgs and apiArgs to their command lines (a flag given again
// overrides the earlier one, so a second call replaces the first's
// --artifact-store-url) and starts them again, waiting until each is ready.
// The processes inherit this process's environment when they start: set a
// store's credentials (AWS_ACCESS_KEY_ID...) before. For a test that needs
// a setting for a while, such as another artifact store; not in a parallel
// test, since every job's API and controller restart.
func (s *Stack) Reconfigure(ctx context.Context, controllerArgs, apiArgs []string) error {
	if err := s.StopAPI(false); err != nil {
		return err
	}
	if err := s.StopController(false); err != nil {
		return err
	}
	for _, r := range s.controllers {
		r.mu.Lock()
		r.args = append(slices.Clone(r.args), controllerArgs...)
		r.mu.Unlock()
	}
	for _, r := range s.apis {
		r.mu.Lock()
		r.args = append(slices.Clone(r.args), apiArgs...)
		r.mu.Unlock()
	}
	if err := s.StartController(ctx); err != nil {
		return err
	}
	return s.StartAPI(ctx)
}

// UseArtifactStore is Reconfigure with --artifact-store-url=url for both.
func (s *Stack) UseArtifactStore(ctx context.Context, url string) error {
	flag := "--artifact-store-url=" + url
	return s.Reconfigure(ctx, []string{flag}, []string{flag})
}

// AddControllerArgs appends args to the controller's command line, from
// BeforeStart, as AddAPIArgs does the API's.
func (s *Stack) AddControllerArgs(args ...string) {
	s.opts.ControllerArgs = append(s.opts.ControllerArgs, args...)
}
