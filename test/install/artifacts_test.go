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

package install

import (
	"context"
	"os"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The chart's default artifact store is a filesystem on a PersistentVolumeClaim
// it creates (ReadWriteMany, the default StorageClass). The local cluster has
// no StorageClass and no provisioner, so the claim would stay Pending and
// `helm install --wait` would hang on unscheduled pods. The test plays the
// operator of such a cluster: before the README's commands it creates a
// hostPath PersistentVolume (the real node is this machine) bound ahead to
// the claim the chart will make. The install under test is then the chart's
// real default, the store included.
const artifactsClaim = release + "-artifacts"

// provideArtifactsVolume creates the PersistentVolume the chart's claim
// binds, on a directory of this machine the image's user (65532) may write
// (fsGroup does not apply to hostPath volumes).
func provideArtifactsVolume(ctx context.Context, t *testing.T, cl client.Client) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "asyncjob-artifacts-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chown(dir, 65532, 65532); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o770); err != nil {
		t.Fatal(err)
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "asyncjob-install-test-artifacts"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			// Kept after the claim goes, as the test checks the claim first.
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: dir, Type: ptr.To(corev1.HostPathDirectory)}},
			// Bound ahead: no other claim takes it, and no class is needed.
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: namespace, Name: artifactsClaim},
		},
	}
	if err := cl.Create(ctx, pv); err != nil {
		t.Fatalf("creating the artifacts PersistentVolume: %v", err)
	}
	t.Cleanup(func() { _ = cl.Delete(context.Background(), pv) })
	return dir
}

// checkArtifactsStore: the claim is Bound and both components run with the
// filesystem store on it (the pods are Ready, so the commands opened it).
func checkArtifactsStore(ctx context.Context, t *testing.T, cl client.Client) {
	t.Helper()
	var pvc corev1.PersistentVolumeClaim
	if err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: artifactsClaim}, &pvc); err != nil {
		t.Fatalf("the artifacts claim: %v", err)
	}
	if pvc.Status.Phase != corev1.ClaimBound {
		t.Errorf("the artifacts claim is %s, want Bound", pvc.Status.Phase)
	}
	const arg = "--artifact-store-url=file:///var/lib/asyncjob/artifacts?no_tmp_dir=true"
	for _, component := range []string{"controller", "api"} {
		d := deployment(ctx, t, cl, component)
		pod := d.Spec.Template.Spec
		if !slices.Contains(pod.Containers[0].Args, arg) {
			t.Errorf("%s args %v: missing %s", component, pod.Containers[0].Args, arg)
		}
		if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool {
			return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == artifactsClaim
		}) {
			t.Errorf("%s volumes %v: missing the claim %s", component, pod.Volumes, artifactsClaim)
		}
	}
}

// checkArtifactsClaimKept: uninstall keeps the claim (the jobs' files), as
// the chart's README says; the test then removes it as the README tells.
func checkArtifactsClaimKept(ctx context.Context, t *testing.T, cl client.Client) {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: artifactsClaim}, pvc); err != nil {
		t.Errorf("the artifacts claim after uninstall: %v; the chart keeps it (keepOnUninstall)", err)
		return
	}
	if err := cl.Delete(ctx, pvc); err != nil {
		t.Errorf("deleting the kept artifacts claim: %v", err)
	}
}
