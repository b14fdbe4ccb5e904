"""nameko's timer with its interval read from the config key `setting` at start (default `default`)."""
from nameko.timer import Timer


class ConfiguredTimer(Timer):
    def __init__(self, setting, default, **kwargs):
        self.setting = setting
        self.default = default
        super().__init__(interval=default, **kwargs)

    def setup(self):
        self.interval = float(self.container.config.get(self.setting) or self.default)


timer = ConfiguredTimer.decorator
