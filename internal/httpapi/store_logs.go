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

package httpapi

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// NewLogClient builds the client that streams containers' logs (pods/log),
// which controller-runtime's client cannot. Unlike NewClient's it has no
// whole-request timeout, since a followed log lasts as long as its
// container; the store bounds only the wait for the stream to open.
func NewLogClient(cfg *rest.Config) (corev1client.PodsGetter, error) {
	cs, err := kubernetes.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		return nil, err
	}
	return cs.CoreV1(), nil
}

// jobPods lists the pods of aj's Job, oldest first: pods[i] is attempt i+1.
// It lists by the name label every pod of the controller's Job carries
// (jobbuilder.go), straight from the API server: one list per request, and a
// pod the Job controller created a moment ago is not missed. Only pods
// controlled by the Job named after aj, and created since aj, count, so a
// namesake's leftovers never pass for an attempt.
func (s *store) jobPods(ctx context.Context, aj *v1alpha1.AsyncJob) ([]corev1.Pod, error) {
	var list corev1.PodList
	err := s.api.List(ctx, &list, client.InNamespace(aj.Namespace), client.MatchingLabels{v1alpha1.LabelName: aj.Name})
	if err != nil {
		return nil, fromKube(err, kubeAnswers{})
	}
	pods := slices.DeleteFunc(list.Items, func(p corev1.Pod) bool {
		owner := metav1.GetControllerOf(&p)
		return owner == nil || owner.Kind != "Job" || owner.Name != aj.Name ||
			p.CreationTimestamp.Before(&aj.CreationTimestamp)
	})
	slices.SortStableFunc(pods, func(a, b corev1.Pod) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name) // same second: the name decides, always the same way
	})
	return pods, nil
}

// logRequest is what to read of one attempt's log.
type logRequest struct {
	pod, container string
	attempt        int
	follow         bool
	tailLines      *int64
	limitBytes     *int64
}

// openLog opens the container's log through the API server (pods/log, which
// the API server proxies from the kubelet). The stream lives as long as ctx,
// which must not carry the request's Kubernetes deadline: only the wait until
// it opens is bounded, by timeout. Refusals become typed errors (logError).
func (s *store) openLog(ctx context.Context, ns string, req logRequest, timeout time.Duration) (io.ReadCloser, error) {
	if s.logs == nil {
		return nil, errors.New("httpapi: no Pods client configured for logs")
	}
	ctx, cancel := context.WithCancel(ctx)
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() { timedOut.Store(true); cancel() })
	opts := &corev1.PodLogOptions{
		Container:  req.container,
		Follow:     req.follow,
		TailLines:  req.tailLines,
		LimitBytes: req.limitBytes,
	}
	rc, err := s.logs.Pods(ns).GetLogs(req.pod, opts).Stream(ctx)
	timer.Stop()
	if err != nil || timedOut.Load() {
		cancel()
		if rc != nil {
			_ = rc.Close()
		}
		if err == nil || timedOut.Load() {
			err = context.DeadlineExceeded
		}
		return nil, logError(err, req)
	}
	return &cancelOnClose{ReadCloser: rc, cancel: cancel}, nil
}

// logError says what a refused pods/log call means for the client, in words
// of its own: the API server's text names pods, nodes and kubelet URLs.
func logError(err error, req logRequest) error {
	switch {
	case isUnavailable(err):
		return newError(problemUnavailable, "the log of attempt %d cannot be read right now; retry later", req.attempt).
			withRetryAfter(unavailableRetryAfter).withCause(err)
	case apierrors.IsNotFound(err):
		// The pod, or the node it ran on, no longer exists.
		return newError(problemNoLogs, "the log of attempt %d is gone with its pod or node", req.attempt).withCause(err)
	case apierrors.IsBadRequest(err):
		// The kubelet's answer while the container is not running yet
		// ("waiting to start", no node assigned), in a race with the pod's
		// status the handler checked.
		return newError(problemLogsNotReady, "the container of attempt %d has not started yet; retry later", req.attempt).
			withRetryAfter(unavailableRetryAfter).withCause(err)
	case apierrors.IsInternalError(err):
		// The API server could not reach the kubelet of the pod's node.
		return newError(problemUnavailable, "the node that ran attempt %d is not answering; retry later", req.attempt).
			withRetryAfter(unavailableRetryAfter).withCause(err)
	}
	return fromKube(err, kubeAnswers{})
}

// cancelOnClose ends the stream's context when the stream is closed, so the
// connection to the API server goes with it.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
