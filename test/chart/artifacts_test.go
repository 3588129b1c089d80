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

package chart

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

const (
	artifactsMountPath = "/var/lib/asyncjob/artifacts"
	fileStoreArg       = "--artifact-store-url=file://" + artifactsMountPath + "?no_tmp_dir=true"
)

var artifactsMount = corev1.VolumeMount{Name: "artifacts", MountPath: artifactsMountPath}

func artifactsVolume(claim string) corev1.Volume {
	return corev1.Volume{Name: "artifacts", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
}

// deployments decodes the controller and API Deployments.
func deployments(t *testing.T, r rendered) map[string]*appsv1.Deployment {
	t.Helper()
	out := map[string]*appsv1.Deployment{}
	for _, name := range []string{controllerName, apiName} {
		var d appsv1.Deployment
		r.get(t, "Deployment", name, &d)
		out[name] = &d
	}
	return out
}

func hasMount(c corev1.Container, m corev1.VolumeMount) bool {
	return slices.ContainsFunc(c.VolumeMounts, func(got corev1.VolumeMount) bool { return cmp.Equal(got, m) })
}

// artifactArgs are a container's --artifact-* arguments.
func artifactArgs(c corev1.Container) []string {
	var out []string
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--artifact-") {
			out = append(out, a)
		}
	}
	return out
}

// TestArtifactsFilesystemByDefault: the chart creates a ReadWriteMany claim,
// kept on uninstall, mounted at the same path in the API and the controller,
// whose --artifact-store-url names that path with no_tmp_dir; only the API
// gets the limits.
func TestArtifactsFilesystemByDefault(t *testing.T) {
	t.Parallel()
	r := render(t)
	var pvc corev1.PersistentVolumeClaim
	r.get(t, "PersistentVolumeClaim", artifactsClaim, &pvc)
	if pvc.Namespace != namespace || pvc.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Errorf("claim namespace %q annotations %v, want %s and helm.sh/resource-policy: keep", pvc.Namespace, pvc.Annotations, namespace)
	}
	if diff := cmp.Diff([]corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}, pvc.Spec.AccessModes); diff != "" {
		t.Errorf("access modes (-want +got):\n%s", diff)
	}
	if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.Cmp(resource.MustParse("10Gi")) != 0 {
		t.Errorf("size %s, want 10Gi", q.String())
	}
	if pvc.Spec.StorageClassName != nil {
		t.Errorf("storageClassName %q, want none (the cluster's default class)", *pvc.Spec.StorageClassName)
	}
	for name, d := range deployments(t, r) {
		pod := d.Spec.Template.Spec
		if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return cmp.Equal(v, artifactsVolume(artifactsClaim)) }) {
			t.Errorf("%s volumes %v: want the claim %s", name, pod.Volumes, artifactsClaim)
		}
		c := pod.Containers[0]
		if !hasMount(c, artifactsMount) {
			t.Errorf("%s mounts %v: want %s at %s", name, c.VolumeMounts, artifactsMount.Name, artifactsMountPath)
		}
		if pod.SecurityContext.FSGroup == nil || *pod.SecurityContext.FSGroup != 65532 {
			t.Errorf("%s: fsGroup %v, want 65532 so the volume is writable", name, pod.SecurityContext.FSGroup)
		}
		want := []string{fileStoreArg}
		if name == apiName {
			want = append(want, "--artifact-max-file-bytes=1073741824", "--artifact-max-request-bytes=4294967296",
				"--artifact-max-output-bytes=4294967296", "--artifact-redirect=false", "--artifact-url-expiry=5m")
		}
		if diff := cmp.Diff(want, artifactArgs(c)); diff != "" {
			t.Errorf("%s artifact args (-want +got):\n%s", name, diff)
		}
		if len(c.Env) != 0 {
			t.Errorf("%s env %v, want none for a filesystem store", name, c.Env)
		}
	}
}

func TestArtifactsClaimValues(t *testing.T) {
	t.Parallel()
	r := render(t, "--set", "artifacts.store.filesystem.persistentVolumeClaim.size=200Gi",
		"--set", "artifacts.store.filesystem.persistentVolumeClaim.storageClass=cephfs",
		"--set", "artifacts.store.filesystem.persistentVolumeClaim.accessModes={ReadWriteOnce}",
		"--set", "artifacts.store.filesystem.persistentVolumeClaim.keepOnUninstall=false",
		"--set", "artifacts.store.filesystem.mountPath=/data",
		"--set", "podSecurityContext.fsGroup=2000")
	var pvc corev1.PersistentVolumeClaim
	r.get(t, "PersistentVolumeClaim", artifactsClaim, &pvc)
	if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.Cmp(resource.MustParse("200Gi")) != 0 ||
		!cmp.Equal(pvc.Spec.StorageClassName, ptr.To("cephfs")) ||
		!slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) {
		t.Errorf("claim spec %+v, want 200Gi of cephfs, ReadWriteOnce", pvc.Spec)
	}
	if _, ok := pvc.Annotations["helm.sh/resource-policy"]; ok {
		t.Errorf("annotations %v: keepOnUninstall=false keeps no resource policy", pvc.Annotations)
	}
	for name, d := range deployments(t, r) {
		c := d.Spec.Template.Spec.Containers[0]
		if !slices.Contains(c.Args, "--artifact-store-url=file:///data?no_tmp_dir=true") ||
			!hasMount(c, corev1.VolumeMount{Name: "artifacts", MountPath: "/data"}) {
			t.Errorf("%s: args %v mounts %v, want the store at /data", name, c.Args, c.VolumeMounts)
		}
		if fs := d.Spec.Template.Spec.SecurityContext.FSGroup; fs == nil || *fs != 2000 {
			t.Errorf("%s: fsGroup %v, want podSecurityContext's 2000", name, fs)
		}
	}

	// "-": explicitly no class, for a PersistentVolume without one.
	r = render(t, "--set", "artifacts.store.filesystem.persistentVolumeClaim.storageClass=-")
	r.get(t, "PersistentVolumeClaim", artifactsClaim, &pvc)
	if !cmp.Equal(pvc.Spec.StorageClassName, ptr.To("")) {
		t.Errorf("storageClass \"-\": storageClassName %v, want \"\"", pvc.Spec.StorageClassName)
	}
}

func TestArtifactsExistingClaim(t *testing.T) {
	t.Parallel()
	r := render(t, "--set", "artifacts.store.filesystem.existingClaim=shared-files")
	if pvcs := r.find("PersistentVolumeClaim"); len(pvcs) != 0 {
		t.Errorf("rendered %d claims with an existing one, want none", len(pvcs))
	}
	for name, d := range deployments(t, r) {
		if !slices.ContainsFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return cmp.Equal(v, artifactsVolume("shared-files")) }) {
			t.Errorf("%s volumes %v: want the claim shared-files", name, d.Spec.Template.Spec.Volumes)
		}
	}
}

// TestArtifactsS3: the URL names bucket, region, endpoint and path style and
// no credential; the credentials come from the Secret's entries as env;
// nothing is mounted and no claim is made.
func TestArtifactsS3(t *testing.T) {
	t.Parallel()
	r := render(t, "--set", "artifacts.store.type=s3",
		"--set", "artifacts.store.s3.bucket=jobs",
		"--set", "artifacts.store.s3.endpoint=http://versitygw.storage:7070",
		"--set", "artifacts.store.s3.region=eu-west-3",
		"--set", "artifacts.store.s3.pathStyle=true",
		"--set", "artifacts.store.s3.credentials.existingSecret=s3-creds",
		"--set", "artifacts.store.s3.credentials.accessKeyIDKey=access",
		"--set", "artifacts.store.s3.credentials.secretAccessKeyKey=secret",
		"--set", "artifacts.redirect=true", "--set", "artifacts.urlExpiry=90s",
		"--set", "artifacts.maxFileBytes=10737418240")
	if pvcs := r.find("PersistentVolumeClaim"); len(pvcs) != 0 {
		t.Errorf("rendered %d claims for an S3 store, want none", len(pvcs))
	}
	wantEnv := []corev1.EnvVar{
		{Name: "AWS_ACCESS_KEY_ID", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "s3-creds"}, Key: "access"}}},
		{Name: "AWS_SECRET_ACCESS_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "s3-creds"}, Key: "secret"}}},
	}
	for name, d := range deployments(t, r) {
		pod := d.Spec.Template.Spec
		c := pod.Containers[0]
		args := artifactArgs(c)
		if len(args) == 0 || !strings.HasPrefix(args[0], "--artifact-store-url=") {
			t.Fatalf("%s artifact args %v: want --artifact-store-url first", name, args)
		}
		u, err := url.Parse(strings.TrimPrefix(args[0], "--artifact-store-url="))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantQuery := url.Values{"endpoint": {"http://versitygw.storage:7070"}, "region": {"eu-west-3"}, "use_path_style": {"true"}}
		if u.Scheme != "s3" || u.Host != "jobs" || u.Path != "" || !cmp.Equal(wantQuery, u.Query()) {
			t.Errorf("%s: store URL %s, want s3://jobs with %v", name, u, wantQuery)
		}
		if diff := cmp.Diff(wantEnv, c.Env); diff != "" {
			t.Errorf("%s env (-want +got):\n%s", name, diff)
		}
		for _, a := range args {
			if strings.Contains(a, "s3-creds") || strings.Contains(strings.ToLower(a), "secret") || strings.Contains(a, "access") {
				t.Errorf("%s arg %q: credentials are never in args", name, a)
			}
		}
		for _, v := range pod.Volumes {
			if v.Name == "artifacts" {
				t.Errorf("%s mounts an artifacts volume with an S3 store", name)
			}
		}
		if pod.SecurityContext.FSGroup != nil {
			t.Errorf("%s: fsGroup %d without a volume to write", name, *pod.SecurityContext.FSGroup)
		}
		if name == apiName {
			for _, want := range []string{"--artifact-redirect=true", "--artifact-url-expiry=90s", "--artifact-max-file-bytes=10737418240"} {
				if !slices.Contains(args, want) {
					t.Errorf("API artifact args %v: missing %s", args, want)
				}
			}
		}
	}

	// Without a Secret: the SDK's own credential chain, no env.
	r = render(t, "--set", "artifacts.store.type=s3", "--set", "artifacts.store.s3.bucket=jobs")
	for name, d := range deployments(t, r) {
		c := d.Spec.Template.Spec.Containers[0]
		if len(c.Env) != 0 || !slices.Contains(c.Args, "--artifact-store-url=s3://jobs?region=us-east-1") {
			t.Errorf("%s: env %v args %v, want no env and s3://jobs?region=us-east-1", name, c.Env, artifactArgs(c))
		}
	}
}

func TestArtifactsS3NeedsABucket(t *testing.T) {
	t.Parallel()
	_, stderr, err := runHelm(t, "template", release, chartDir, "--namespace", namespace, "--set", "artifacts.store.type=s3")
	if err == nil || !strings.Contains(stderr, "bucket") {
		t.Fatalf("helm template with type s3 and no bucket: %v\n%s\nwant a failure naming the bucket", err, stderr)
	}
}

// TestArtifactsNone: no store, no flag at all (the commands' default: artifacts
// disabled), no claim, no volume, no fsGroup.
func TestArtifactsNone(t *testing.T) {
	t.Parallel()
	r := render(t, "--set", "artifacts.store.type=none")
	if pvcs := r.find("PersistentVolumeClaim"); len(pvcs) != 0 {
		t.Errorf("rendered %d claims with no store, want none", len(pvcs))
	}
	for name, d := range deployments(t, r) {
		pod := d.Spec.Template.Spec
		if args := artifactArgs(pod.Containers[0]); len(args) != 0 {
			t.Errorf("%s artifact args %v, want none", name, args)
		}
		if len(pod.Volumes) != 1 || pod.SecurityContext.FSGroup != nil {
			t.Errorf("%s: volumes %v fsGroup %v, want only the worker token key and no fsGroup", name, pod.Volumes, pod.SecurityContext.FSGroup)
		}
	}
}

func TestArtifactsSchemaRejectsBadValues(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown store type", []string{"--set", "artifacts.store.type=minio"}, "/artifacts/store/type"},
		{"typo", []string{"--set", "artifacts.store.s3.bucekt=x"}, "additional properties 'bucekt' not allowed"},
		{"bad access mode", []string{"--set", "artifacts.store.filesystem.persistentVolumeClaim.accessModes={Shared}"}, "/artifacts/store/filesystem/persistentVolumeClaim/accessModes/0"},
		{"relative mount path", []string{"--set", "artifacts.store.filesystem.mountPath=data"}, "/artifacts/store/filesystem/mountPath"},
		{"endpoint without scheme", []string{"--set", "artifacts.store.s3.endpoint=minio:9000"}, "/artifacts/store/s3/endpoint"},
		{"bad expiry", []string{"--set", "artifacts.urlExpiry=5 minutes"}, "/artifacts/urlExpiry"},
		{"zero limit", []string{"--set", "artifacts.maxFileBytes=0"}, "/artifacts/maxFileBytes"},
		{"inline credentials", []string{"--set", "artifacts.store.s3.credentials.accessKey=AKIA"}, "additional properties 'accessKey' not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, err := runHelm(t, append([]string{"template", release, chartDir, "--namespace", namespace}, c.args...)...)
			if err == nil {
				t.Fatalf("helm template %s succeeded, want the schema to refuse it", strings.Join(c.args, " "))
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("helm's error lacks %q:\n%s", c.want, stderr)
			}
		})
	}
}
