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

package bench

import (
	"context"
	"fmt"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/asyncjob/asyncjob/test/stack"
)

// Each client of kube-apiserver in the benchmark has its own ServiceAccount
// and FlowSchema, so kube-apiserver's API Priority and Fairness counters
// (apiserver_flowcontrol_dispatched_requests_total by flow_schema) say
// exactly how many requests each sent: the REST API per submission and per
// poll, the controller per job, the raw client per Job. As ServiceAccounts
// they are also what a production installation runs as; all three share one
// priority level.
const (
	identityAPI        = "bench-asyncjob-api"
	identityController = "bench-asyncjob-controller"
	identityRaw        = "bench-raw-client"
	// priorityLevel is one of kube-apiserver's built-in priority levels.
	priorityLevel = "workload-high"
)

// identityNames maps each identity to the name the report uses.
var identityNames = map[string]string{
	identityAPI:        procAPI,
	identityController: procController,
	identityRaw:        "raw client",
}

// identityKubeconfig is where an identity's kubeconfig is written.
func identityKubeconfig(dir, identity string) string {
	return filepath.Join(dir, identity+".kubeconfig")
}

// createIdentities creates the ServiceAccounts (cluster-admin, so only the
// counting differs from the stack's admin client), their FlowSchemas and a
// kubeconfig for each in dir. It returns the raw client's configuration.
func createIdentities(ctx context.Context, s *stack.Stack, dir string) (*rest.Config, error) {
	cs, err := kubernetes.NewForConfig(s.Cluster.Config())
	if err != nil {
		return nil, err
	}
	admin, err := clientcmd.LoadFromFile(s.Cluster.Kubeconfig())
	if err != nil {
		return nil, err
	}
	ns := stack.SystemNamespace
	var rawToken string
	for _, id := range []string{identityAPI, identityController, identityRaw} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: id, Namespace: ns}}
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("creating ServiceAccount %s: %w", id, err)
		}
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: id},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: id, Namespace: ns}},
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("binding %s: %w", id, err)
		}
		if _, err := cs.FlowcontrolV1().FlowSchemas().Create(ctx, flowSchema(id, ns), metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("creating FlowSchema %s: %w", id, err)
		}
		tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, id, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](48 * 3600)},
		}, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("token for %s: %w", id, err)
		}
		if id == identityRaw {
			rawToken = tr.Status.Token
			continue
		}
		kc := admin.DeepCopy()
		for _, ai := range kc.AuthInfos {
			ai.Token, ai.TokenFile = tr.Status.Token, ""
		}
		if err := clientcmd.WriteToFile(*kc, identityKubeconfig(dir, id)); err != nil {
			return nil, err
		}
	}
	cfg := s.Cluster.Config()
	cfg.BearerToken, cfg.BearerTokenFile = rawToken, ""
	return cfg, nil
}

// flowSchema sends every request of ServiceAccount ns/name to priorityLevel
// under a FlowSchema of its own name.
func flowSchema(name, ns string) *flowcontrolv1.FlowSchema {
	return &flowcontrolv1.FlowSchema{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: flowcontrolv1.FlowSchemaSpec{
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: priorityLevel},
			MatchingPrecedence:         500, // before the built-in service-accounts schema (9000)
			DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
			Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
				Subjects: []flowcontrolv1.Subject{{
					Kind:           flowcontrolv1.SubjectKindServiceAccount,
					ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Namespace: ns, Name: name},
				}},
				ResourceRules: []flowcontrolv1.ResourcePolicyRule{{
					Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"},
					ClusterScope: true, Namespaces: []string{"*"},
				}},
				NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
			}},
		},
	}
}
