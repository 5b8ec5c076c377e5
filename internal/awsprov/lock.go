package awsprov

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/deploy"
)

// Dynamo is the part of the DynamoDB API the lock calls.
type Dynamo interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ Dynamo = (*dynamodb.Client)(nil)

// The app's lease is one item of the shared stack's lock table, changed
// only by conditional writes, which DynamoDB applies one at a time per item
// (strongly consistent): a lease is taken when there is none or it has
// expired, renewed and given up only by the token that took it.
const leaseID = "lease"

// TryLock takes the app's lease for owner, or returns *deploy.LockedError
// naming the holder. An expired lease is taken over and TakenFrom names
// its owner. Expiry compares this machine's clock with the holder's.
func (p *Provider) TryLock(ctx context.Context, owner string, ttl time.Duration) (deploy.Lease, error) {
	if p.ddb == nil {
		return nil, errors.New("take the lock: the aws provider has no DynamoDB client")
	}
	l := &ddbLease{ddb: p.ddb, table: infra.LockTableName(p.o.App), ttl: ttl, owner: owner, token: rand.Text()}
	now := time.Now().UTC()
	out, err := p.ddb.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item: map[string]ddbtypes.AttributeValue{
			"id": str(leaseID), "owner": str(owner), "token": str(l.token),
			"since": str(now.Format(time.RFC3339Nano)), "expires": millis(now.Add(ttl)),
		},
		ConditionExpression:       aws.String("attribute_not_exists(id) OR expires < :now"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":now": millis(now)},
		ReturnValues:              ddbtypes.ReturnValueAllOld,
	})
	if conditionFailed(err) {
		cur, gerr := l.read(ctx)
		if gerr != nil {
			return nil, gerr
		}
		if cur.Owner == "" { // given up between the two calls: try again later
			return nil, &deploy.LockedError{Owner: "(released just now)", Since: now, Expires: now}
		}
		return nil, &cur
	}
	if err != nil {
		return nil, l.wrap("take the lock", err)
	}
	if len(out.Attributes) > 0 {
		l.from = leaseOf(out.Attributes).Owner
	}
	return l, nil
}

type ddbLease struct {
	ddb                Dynamo
	table              string
	ttl                time.Duration
	owner, token, from string
}

func (l *ddbLease) TakenFrom() string { return l.from }

// Renew pushes the expiry out by the TTL, unless another owner took the
// lease over after it expired.
func (l *ddbLease) Renew(ctx context.Context) error {
	_, err := l.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: map[string]ddbtypes.AttributeValue{"id": str(leaseID)},
		UpdateExpression:          aws.String("SET expires = :exp"),
		ConditionExpression:       aws.String("#t = :tok"),
		ExpressionAttributeNames:  map[string]string{"#t": "token"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":exp": millis(time.Now().Add(l.ttl)), ":tok": str(l.token)},
	})
	if conditionFailed(err) {
		cur, gerr := l.read(ctx)
		if gerr != nil {
			return gerr
		}
		if cur.Owner == "" {
			return errors.New("the lease is gone: it expired and was taken and given up by another run")
		}
		return fmt.Errorf("the lease was taken over by %s after it expired", cur.Owner)
	}
	return l.wrap("renew the lock", err)
}

// Unlock gives the lease up if it is still this one's.
func (l *ddbLease) Unlock(ctx context.Context) error {
	_, err := l.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(l.table), Key: map[string]ddbtypes.AttributeValue{"id": str(leaseID)},
		ConditionExpression:       aws.String("#t = :tok"),
		ExpressionAttributeNames:  map[string]string{"#t": "token"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":tok": str(l.token)},
	})
	if conditionFailed(err) {
		return nil // taken over meanwhile: not ours to give up
	}
	return l.wrap("unlock", err)
}

// read reads the lease as it is now (a strongly consistent read); an
// empty Owner when there is none.
func (l *ddbLease) read(ctx context.Context) (deploy.LockedError, error) {
	out, err := l.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.table), Key: map[string]ddbtypes.AttributeValue{"id": str(leaseID)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return deploy.LockedError{}, l.wrap("read the lock", err)
	}
	return leaseOf(out.Item), nil
}

func (l *ddbLease) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var nf *ddbtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("%s: the lock table %s does not exist: run `go run mage.go shared:deploy` (the shared stack creates it): %w", what, l.table, err)
	}
	return fmt.Errorf("%s in table %s: %w", what, l.table, err)
}

func leaseOf(item map[string]ddbtypes.AttributeValue) deploy.LockedError {
	var e deploy.LockedError
	if v, ok := item["owner"].(*ddbtypes.AttributeValueMemberS); ok {
		e.Owner = v.Value
	}
	if v, ok := item["since"].(*ddbtypes.AttributeValueMemberS); ok {
		e.Since, _ = time.Parse(time.RFC3339Nano, v.Value) // zero when unreadable: shown, not relied on
	}
	if v, ok := item["expires"].(*ddbtypes.AttributeValueMemberN); ok {
		if ms, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			e.Expires = time.UnixMilli(ms).UTC()
		}
	}
	return e
}

func conditionFailed(err error) bool {
	var cf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

func millis(t time.Time) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}
