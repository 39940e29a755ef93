import pytest

from archive.config import load_settings
from archive.errors import ConfigurationError


def test_defaults_put_everything_under_archive_home(tmp_path):
    settings = load_settings({"ARCHIVE_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'archive.db'}"
    assert settings.storage_path == tmp_path / "objects" and settings.index_path == tmp_path / "index"
    assert settings.key_file == tmp_path / "keys" / "master.json"
    assert (settings.storage, settings.search, settings.queue) == ("filesystem", "tantivy", "sqlite")
    assert settings.ocr_languages == "chi_sim+eng" and settings.cipher == "AES-256-GCM"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ARCHIVE_STORAGE": "floppy"}, "ARCHIVE_STORAGE"),
        ({"ARCHIVE_STORAGE": "s3"}, "ARCHIVE_S3_ENDPOINT"),
        ({"ARCHIVE_SEARCH": "elasticsearch"}, "ARCHIVE_ELASTICSEARCH_URL"),
        ({"ARCHIVE_QUEUE": "redis"}, "ARCHIVE_REDIS_URL"),
        ({"ARCHIVE_DATABASE_URL": "mysql://x"}, "ARCHIVE_DATABASE_URL"),
        ({"ARCHIVE_RESCAN_THRESHOLD": "high"}, "ARCHIVE_RESCAN_THRESHOLD"),
        ({"ARCHIVE_CIPHER": "DES"}, "ARCHIVE_CIPHER"),
        ({"ARCHIVE_MASTER_KEYS": "k1:abc"}, "ARCHIVE_LOOKUP_KEY"),
    ],
)
def test_a_missing_or_malformed_setting_is_named_in_a_one_line_error(tmp_path, env, named):
    with pytest.raises(ConfigurationError) as error:
        load_settings({"ARCHIVE_HOME": str(tmp_path), **env})
    assert named in str(error.value) and "\n" not in str(error.value)
