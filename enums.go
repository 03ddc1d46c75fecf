package runbook

// Risk is how dangerous an operation behind an approval is.
type Risk string

// Risk levels, least to most dangerous.
const (
	RiskLow      Risk = "low"
	RiskMedium   Risk = "medium"
	RiskHigh     Risk = "high"
	RiskCritical Risk = "critical"
)

// Risks lists every risk level, least to most dangerous.
var Risks = []Risk{RiskLow, RiskMedium, RiskHigh, RiskCritical}

// RiskNames lists the risk levels as text, least to most dangerous.
func RiskNames() []string {
	names := make([]string, len(Risks))
	for i, r := range Risks {
		names[i] = string(r)
	}
	return names
}

// Incident events: what happens to an incident that runbooks can be triggered by.
const (
	EventIncidentDeclared = "incident.declared"
	EventIncidentUpdated  = "incident.updated"
	EventIncidentResolved = "incident.resolved"
)

// IncidentEvents lists every incident event.
var IncidentEvents = []string{EventIncidentDeclared, EventIncidentUpdated, EventIncidentResolved}

// RunStates lists every run state, active ones first, for reports and metrics.
var RunStates = []RunState{RunRunning, RunWaitingApproval, RunSucceeded, RunFailed, RunDenied, RunExpired, RunCancelled}

// ApprovalStates lists every approval state, pending first.
var ApprovalStates = []ApprovalState{ApprovalPending, ApprovalApproved, ApprovalDenied, ApprovalExpired, ApprovalCancelled}
