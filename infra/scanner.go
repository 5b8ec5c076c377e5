package infra

import "regexp"

var (
	bucketRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	kmsKeyRe = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$`)
)

// validateScannerSettings checks the settings behind checkov's findings
// that are the user's to turn on (infra/README.md, "Scanner findings").
func (p SharedParams) validateScannerSettings() error {
	switch p.ContainerInsights {
	case "disabled", "enabled", "enhanced":
	default:
		return errf("container insights %q: want disabled, enabled or enhanced", p.ContainerInsights)
	}
	if p.AccessLogsBucket != "" && !bucketRe.MatchString(p.AccessLogsBucket) {
		return errf("access logs bucket %q is not an S3 bucket name", p.AccessLogsBucket)
	}
	if p.LogsKMSKeyARN != "" && !kmsKeyRe.MatchString(p.LogsKMSKeyARN) {
		return errf("log group key %q: want a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)", p.LogsKMSKeyARN)
	}
	return nil
}
