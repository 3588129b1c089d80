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
	"fmt"
	"net"

	"github.com/asyncjob/asyncjob/internal/ociimage"
)

// ProjectImageRepository is the project's image in the cluster's registry,
// tagged ProjectImageTag, with RealNodeWorkers.
const (
	ProjectImageRepository = "asyncjob"
	ProjectImageTag        = "dev"
)

// setUpRealNodeWorkers pushes the project's image to the cluster's registry
// for the entrypoint's init container, and points the controller's callback
// URL at the API on the address the real node's pods reach, where the API
// then listens too (besides loopback, on every interface: one listener).
func (s *Stack) setUpRealNodeWorkers(ctx context.Context) error {
	// The same layout as the released image (hack/image, docs/image.md): the
	// static binary at /asyncjob, run as 65532.
	img, err := ociimage.New(s.binary, ociimage.Options{Name: "asyncjob", User: "65532:65532"})
	if err != nil {
		return err
	}
	ref := fmt.Sprintf("%s/%s:%s", s.Cluster.Registry(), ProjectImageRepository, ProjectImageTag)
	s.opts.Log("pushing the project's image to the cluster's registry as %s", ref)
	if err := ociimage.Push(ctx, ref, img); err != nil {
		return err
	}
	s.opts.EntrypointImage = ref
	_, port, err := net.SplitHostPort(s.opts.APIAddress)
	if err != nil {
		return err
	}
	s.bindAddress = net.JoinHostPort("0.0.0.0", port)
	s.opts.CallbackURL = "http://" + net.JoinHostPort(s.Cluster.HostIP(), port)
	return nil
}

// CallbackURL is the controller's --callback-url: the API's URL as job pods
// reach it.
func (s *Stack) CallbackURL() string {
	if s.opts.CallbackURL != "" {
		return s.opts.CallbackURL
	}
	return s.APIURL
}

// EntrypointImage is the controller's --entrypoint-image ("" for none).
func (s *Stack) EntrypointImage() string { return s.opts.EntrypointImage }
