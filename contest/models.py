"""Every mapped class, imported once so that the metadata (and Alembic) sees them all."""

from contest.audit.models import AuditEvent
from contest.auth.models import Role, User
from contest.contests.models import Category, CategoryKind, Contest, Place
from contest.db import Base
from contest.entries.models import AssetKind, Entry, EntryFlag, EntryStatus, FlagKind, MediaAsset
from contest.entries.reasons import RejectionReason
from contest.figures.models import PageVisit
from contest.jury.models import Assignment, Conflict, Criterion, JuryMember, Round, RoundEntry, Score
from contest.mail.models import OutboundEmail
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.results.export_jobs import ExportJob
from contest.results.models import AudienceMode, ResultsSettings, RoundTallySettings
from contest.results.prizes import Award, PrizeSlot, Publication, PublishedRanking
from contest.uploads.models import Upload, UploadState
from contest.voting.models import MonthlyVoteCount, Vote
from contest.voting.review_runs import ReviewRun

__all__ = [
    "AssetKind",
    "Assignment",
    "AudienceMode",
    "AuditEvent",
    "Award",
    "Base",
    "Category",
    "CategoryKind",
    "Conflict",
    "Contest",
    "Criterion",
    "Entry",
    "EntryFlag",
    "EntryStatus",
    "ExportJob",
    "FlagKind",
    "JobKind",
    "JobState",
    "JuryMember",
    "MediaAsset",
    "MonthlyVoteCount",
    "OutboundEmail",
    "PageVisit",
    "Place",
    "PrizeSlot",
    "ProcessingJob",
    "Publication",
    "PublishedRanking",
    "RejectionReason",
    "ResultsSettings",
    "ReviewRun",
    "Role",
    "Round",
    "RoundEntry",
    "RoundTallySettings",
    "Score",
    "Upload",
    "UploadState",
    "User",
    "Vote",
]
