"""The one declarative description of the platform's 20 resources.

Every tool, both renderings, the validation of calls and the seeded dataset's shape come from
this table; nothing else lists fields.
"""

from __future__ import annotations

from typing import Any

from tasks.schema import Field, Resource


def _f(name: str, type_: str, description: str, *, req: bool = False, default: Any = None,
       enum: tuple[str, ...] | None = None, ref: str | None = None, text: bool = False) -> Field:
    return Field(name, type_, description, req, default, enum, ref, text)  # type: ignore[arg-type]


def _ref(name: str, target: str, description: str, *, req: bool = False) -> Field:
    return _f(name, "int", description, req=req, ref=target)


TASK_STATUSES = ("todo", "in_progress", "review", "done")
PRIORITIES = ("low", "medium", "high", "urgent")
BUG_STATUSES = ("open", "triaged", "in_progress", "resolved", "closed")
SEVERITIES = ("low", "medium", "high", "critical")
PROJECT_STATUSES = ("planning", "active", "on_hold", "completed", "cancelled")
INVOICE_STATUSES = ("draft", "sent", "paid", "overdue", "void")

RESOURCES: tuple[Resource, ...] = (
    Resource("users", "User", "user", "A person with an account on the platform.", (
        _f("name", "str", "Full name.", req=True, text=True),
        _f("email", "str", "Work email address.", req=True, text=True),
        _f("role", "str", "Job role.", req=True,
           enum=("engineer", "designer", "manager", "qa", "support", "sales")),
        _ref("team_id", "teams", "Team the user belongs to."),
        _f("active", "bool", "False once the account is deactivated.", default=True),
        _f("joined_on", "date", "Date the user joined."),
    )),
    Resource("teams", "Team", "team", "A group of users working together.", (
        _f("name", "str", "Team name.", req=True, text=True),
        _f("department", "str", "Department the team is part of.", req=True,
           enum=("engineering", "design", "product", "operations", "sales")),
        _ref("lead_id", "users", "User who leads the team."),
    )),
    Resource("clients", "Client", "client", "A customer organisation that projects are for.", (
        _f("name", "str", "Company name.", req=True, text=True),
        _f("industry", "str", "Industry sector.",
           enum=("retail", "finance", "health", "logistics", "media", "public")),
        _f("contact_email", "str", "Billing contact email.", text=True),
        _f("country", "str", "Two-letter country code."),
    )),
    Resource("projects", "Project", "project", "A body of work for a client, run by a team.", (
        _f("name", "str", "Project name.", req=True, text=True),
        _ref("client_id", "clients", "Client the project is for."),
        _ref("team_id", "teams", "Team that owns the project."),
        _f("status", "str", "Lifecycle status.", default="planning", enum=PROJECT_STATUSES),
        _f("start_date", "date", "Start date."),
        _f("due_date", "date", "Planned end date."),
        _f("budget", "float", "Budget in EUR."),
        _f("description", "str", "Goal of the project.", text=True),
    )),
    Resource("milestones", "Milestone", "milestone", "A dated goal within a project.", (
        _ref("project_id", "projects", "Project of the milestone.", req=True),
        _f("name", "str", "Milestone name.", req=True, text=True),
        _f("due_date", "date", "Date the milestone is due."),
        _f("status", "str", "Whether it is still open.", default="open",
           enum=("open", "reached", "missed")),
    )),
    Resource("sprints", "Sprint", "sprint", "A time-boxed iteration of a project.", (
        _ref("project_id", "projects", "Project of the sprint.", req=True),
        _f("name", "str", "Sprint name.", req=True, text=True),
        _f("start_date", "date", "First day."),
        _f("end_date", "date", "Last day."),
        _f("status", "str", "Sprint state.", default="planned",
           enum=("planned", "active", "closed")),
    )),
    Resource("tasks", "Task", "task", "A unit of work in a project.", (
        _f("title", "str", "Short title.", req=True, text=True),
        _ref("project_id", "projects", "Project the task belongs to.", req=True),
        _f("description", "str", "Details of the work.", text=True),
        _ref("assignee_id", "users", "User doing the task."),
        _ref("sprint_id", "sprints", "Sprint the task is planned in."),
        _ref("milestone_id", "milestones", "Milestone the task counts towards."),
        _f("status", "str", "Progress state.", default="todo", enum=TASK_STATUSES),
        _f("priority", "str", "Priority.", default="medium", enum=PRIORITIES),
        _f("estimate_hours", "float", "Estimated effort in hours."),
        _f("due_date", "date", "Date the task is due."),
    )),
    Resource("bugs", "Bug", "bug", "A defect reported against a project.", (
        _f("title", "str", "Short summary.", req=True, text=True),
        _ref("project_id", "projects", "Affected project.", req=True),
        _f("severity", "str", "Impact.", req=True, enum=SEVERITIES),
        _f("description", "str", "Steps and details.", text=True),
        _f("status", "str", "Workflow state.", default="open", enum=BUG_STATUSES),
        _ref("assignee_id", "users", "User fixing the bug."),
        _ref("reporter_id", "users", "User who reported it."),
        _f("reported_on", "date", "Date reported."),
    )),
    Resource("comments", "Comment", "comment", "A comment on a task or a bug.", (
        _f("body", "str", "Comment text.", req=True, text=True),
        _ref("author_id", "users", "User who wrote it.", req=True),
        _ref("task_id", "tasks", "Task commented on (or bug_id)."),
        _ref("bug_id", "bugs", "Bug commented on (or task_id)."),
        _f("created_on", "date", "Date written; defaults to today."),
    ), one_of=("task_id", "bug_id")),
    Resource("time_entries", "TimeEntry", "time entry", "Hours a user logged on a project.", (
        _ref("user_id", "users", "User who worked.", req=True),
        _ref("project_id", "projects", "Project worked on.", req=True),
        _f("date", "date", "Day worked.", req=True),
        _f("hours", "float", "Hours worked.", req=True),
        _ref("task_id", "tasks", "Task worked on."),
        _f("billable", "bool", "Whether the client is billed.", default=True),
        _f("note", "str", "What was done.", text=True),
    )),
    Resource("invoices", "Invoice", "invoice", "A bill sent to a client for a project.", (
        _f("number", "str", "Invoice number, e.g. INV-2025-001.", req=True, text=True),
        _ref("client_id", "clients", "Client billed.", req=True),
        _ref("project_id", "projects", "Project billed.", req=True),
        _f("amount", "float", "Total amount.", req=True),
        _f("currency", "str", "Currency.", default="EUR", enum=("EUR", "USD", "GBP")),
        _f("status", "str", "Payment state.", default="draft", enum=INVOICE_STATUSES),
        _f("issued_on", "date", "Issue date."),
        _f("due_on", "date", "Payment due date."),
    )),
    Resource("labels", "Label", "label", "A colored tag used within a project.", (
        _f("name", "str", "Label text.", req=True, text=True),
        _ref("project_id", "projects", "Project using the label."),
    )),
    Resource("releases", "Release", "release", "A shipped or planned version of a project.", (
        _ref("project_id", "projects", "Project released.", req=True),
        _f("version", "str", "Version, e.g. 2.1.0.", req=True, text=True),
        _f("status", "str", "Release state.", default="planned",
           enum=("planned", "released", "rolled_back")),
        _f("released_on", "date", "Release date."),
    )),
    Resource("documents", "Document", "document", "A written document attached to a project.", (
        _f("title", "str", "Title.", req=True, text=True),
        _ref("project_id", "projects", "Project it belongs to."),
        _ref("author_id", "users", "Author."),
        _f("kind", "str", "Kind of document.", default="spec",
           enum=("spec", "design", "runbook", "notes", "report")),
        _f("content", "str", "Body text.", text=True),
        _f("updated_on", "date", "Last edit date."),
    )),
    Resource("meetings", "Meeting", "meeting", "A scheduled meeting about a project.", (
        _f("title", "str", "Title.", req=True, text=True),
        _ref("project_id", "projects", "Project discussed."),
        _ref("organizer_id", "users", "Organizer."),
        _f("date", "date", "Day of the meeting.", req=True),
        _f("duration_minutes", "int", "Length in minutes.", default=30),
    )),
    Resource("notifications", "Notification", "notification", "A message sent to a user.", (
        _ref("user_id", "users", "Recipient.", req=True),
        _f("message", "str", "Text shown to the user.", req=True, text=True),
        _f("kind", "str", "Kind of message.", default="info",
           enum=("info", "reminder", "alert", "mention")),
        _f("read", "bool", "Whether the user has read it.", default=False),
        _f("created_on", "date", "Date sent; defaults to today."),
    )),
    Resource("expenses", "Expense", "expense", "Money a user spent on a project.", (
        _ref("project_id", "projects", "Project charged.", req=True),
        _ref("user_id", "users", "User who spent it.", req=True),
        _f("amount", "float", "Amount in EUR.", req=True),
        _f("category", "str", "Category.", default="other",
           enum=("travel", "software", "hardware", "meals", "other")),
        _f("status", "str", "Approval state.", default="submitted",
           enum=("submitted", "approved", "rejected", "reimbursed")),
        _f("spent_on", "date", "Date of the expense."),
        _f("description", "str", "What it was for.", text=True),
    )),
    Resource("repositories", "Repository", "repository", "A source code repository.", (
        _f("name", "str", "Repository name.", req=True, text=True),
        _ref("project_id", "projects", "Project the code is for."),
        _f("language", "str", "Main language.",
           enum=("python", "typescript", "go", "rust", "java")),
        _f("visibility", "str", "Who can see it.", default="private",
           enum=("private", "internal", "public")),
    )),
    Resource("deployments", "Deployment", "deployment", "A rollout of a repository.", (
        _ref("repository_id", "repositories", "Repository deployed.", req=True),
        _f("environment", "str", "Target environment.", req=True,
           enum=("dev", "staging", "production")),
        _f("status", "str", "Outcome.", default="pending",
           enum=("pending", "succeeded", "failed", "rolled_back")),
        _ref("release_id", "releases", "Release deployed."),
        _ref("deployed_by", "users", "User who started it."),
        _f("deployed_on", "date", "Date of the rollout."),
        _f("summary", "str", "What changed.", text=True),
    )),
    Resource("webhooks", "Webhook", "webhook", "An HTTP callback fired on platform events.", (
        _ref("project_id", "projects", "Project whose events fire it.", req=True),
        _f("url", "str", "Target URL.", req=True, text=True),
        _f("event", "str", "Event that fires it.", req=True,
           enum=("task_created", "bug_reported", "deployment_finished", "invoice_paid")),
        _f("active", "bool", "Whether it fires.", default=True),
    )),
)

RESOURCES_BY_NAME: dict[str, Resource] = {r.name: r for r in RESOURCES}
