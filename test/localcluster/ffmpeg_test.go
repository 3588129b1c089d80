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

package localcluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/asyncjob/asyncjob/test/localcluster"
)

// The ffmpeg image built from Debian's packages runs on the real node as
// the convert type runs it: as 65534, root file system read-only, through
// /bin/sh; its ffmpeg encodes VP9 and Opus and its ffprobe reads them back.
func TestRealNodeFFmpegImage(t *testing.T) {
	skipIfShort(t)
	localcluster.SkipWithoutRealNode(t, "the ffmpeg image on a real kubelet")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Options{RealNode: true})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	t.Cleanup(func() { dumpLogsOnFailure(t, c) })
	if err := c.LoadFFmpegImage(ctx); err != nil {
		t.Fatalf("LoadFFmpegImage: %v", err)
	}
	cs, err := kubernetes.NewForConfig(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	const script = `cd /work && ffmpeg -hide_banner -loglevel error -nostdin \
  -f lavfi -i testsrc=duration=2:size=160x120:rate=10 -f lavfi -i sine=duration=2 \
  -c:v libvpx-vp9 -c:a libopus -y out.webm \
&& ffprobe -v error -show_entries stream=codec_name:format=duration -of csv=p=0 out.webm > /dev/termination-log`
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "ffmpeg"},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				NodeSelector:  map[string]string{"kubernetes.io/hostname": c.RealNodeName()},
				Volumes:       []corev1.Volume{{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
				Containers: []corev1.Container{{
					Name:            "ffmpeg",
					Image:           localcluster.FFmpegImage,
					ImagePullPolicy: corev1.PullNever,
					Command:         []string{"/bin/sh", "-c", script},
					VolumeMounts:    []corev1.VolumeMount{{Name: "work", MountPath: "/work"}},
					SecurityContext: &corev1.SecurityContext{
						RunAsUser:              ptr.To[int64](65534),
						RunAsGroup:             ptr.To[int64](65534),
						ReadOnlyRootFilesystem: ptr.To(true),
					},
				}},
			}},
		},
	}
	created, err := cs.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitForJobCondition(t, cs, "default", created.Name, batchv1.JobComplete)
	pods, err := jobPods(ctx, cs, "default", created)
	if err != nil || len(pods) != 1 {
		t.Fatalf("job pods: %d, %v", len(pods), err)
	}
	msg := terminationMessage(pods[0])
	for _, want := range []string{"vp9", "opus", "2.0"} {
		if !strings.Contains(msg, want) {
			t.Errorf("ffprobe in the image said %q, want %s in it", msg, want)
		}
	}
	// Later calls do not import again.
	start := time.Now()
	if err := c.LoadFFmpegImage(ctx); err != nil || time.Since(start) > time.Second {
		t.Errorf("LoadFFmpegImage again: %v after %s, want at once", err, time.Since(start))
	}
}
