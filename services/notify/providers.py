"""nameko extensions of the notify service: channels, templates and settings built once per container
(a bad template or channel setting stops the start, not a message)."""
from nameko.extensions import DependencyProvider

from .adapters import build_channels
from .domain.templates import TemplateRegistry
from .group_commit import GroupCommit
from .handlers import Settings


class Channels(DependencyProvider):
    """{"sms": Channel, "email": Channel} from SMS_CHANNEL / EMAIL_CHANNEL (services.notify.adapters)."""

    def setup(self):
        self.channels = build_channels(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.channels


class Templates(DependencyProvider):
    """The checked template registry (NOTIFY_TEMPLATE_DIR, NOTIFY_SMS_SIGNATURE)."""

    def setup(self):
        self.registry = TemplateRegistry.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.registry


class NotifySettings(DependencyProvider):
    """Quiet hours, retry policy and limits (services.notify.handlers.Settings.from_config)."""

    def setup(self):
        self.settings = Settings.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class GroupCommits(DependencyProvider):
    """One group commit per kind of database work, shared by the container's workers: events
    recorded (`store`), answers recorded (`record`), and the repeat check before the contact
    look-ups (`check`, a read); and one for those look-ups (`contacts`: one registration.contacts_of
    RPC for the events waiting together). NOTIFY_GROUP_LIMIT (200): items per group at most."""

    def setup(self):
        limit = int(self.container.config.get("NOTIFY_GROUP_LIMIT") or 200)
        self.store, self.record, self.check = GroupCommit(limit), GroupCommit(limit), GroupCommit(limit)
        self.contacts = GroupCommit(limit, split_on_failure=False)

    def get_dependency(self, worker_ctx):
        return self
