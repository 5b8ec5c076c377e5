package awsprov

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway/slipway/infra"
)

// AWS: deleting the shared stack keeps the ECR repository (DeletionPolicy
// Retain) and, with a database, takes a final snapshot of the Aurora
// cluster (DeletionPolicy Snapshot) ("DeletionPolicy attribute",
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
// What a teardown keeps is said with the commands that remove it.
func TestWhatTheSharedStackLeavesIsSaidWithHowToRemoveIt(t *testing.T) {
	p := New(Clients{ECR: fakeRegistry{n: 1}}, Options{App: "shop"})
	kept := p.kept(context.Background(), infra.SharedOutputs{RepositoryName: "shop", Database: &infra.DatabaseOutputs{ClusterARN: "arn:aws:rds:eu-west-1:123456789012:cluster:shop-db"}})
	if len(kept) != 2 {
		t.Fatalf("kept %v, want the repository and the snapshot", kept)
	}
	for i, want := range []string{
		"ECR repository shop (1 image): kept when the shared stack goes, and the next shared:deploy cannot create it while it exists; remove it with `aws ecr delete-repository --repository-name shop --force`",
		"the final snapshot of Aurora cluster shop-db (every database of the app): CloudFormation snapshots the cluster when it deletes it; remove it with `aws rds describe-db-cluster-snapshots --db-cluster-identifier shop-db --snapshot-type manual`, then `aws rds delete-db-cluster-snapshot",
	} {
		if got := kept[i].String(); !strings.HasPrefix(got, want) {
			t.Errorf("kept[%d] = %q, want %q…", i, got, want)
		}
	}
	if got := p.kept(context.Background(), infra.SharedOutputs{RepositoryName: "shop"}); len(got) != 1 {
		t.Errorf("without a database: kept %v, want the repository only", got)
	}
}
