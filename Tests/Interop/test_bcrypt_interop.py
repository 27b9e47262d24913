"""Talktime's password hashes and Python's bcrypt (the pyca implementation) accept each other's."""
import bcrypt

from conftest import login, register

PASSWORD = "interop passphrase 42"


def test_talktime_hashes_verify_with_python_bcrypt(base_url, sql, fresh_email):
    register(base_url, fresh_email, PASSWORD)
    stored = sql(f"SELECT password_hash FROM users WHERE email = '{fresh_email}'")[0][0]
    assert stored.startswith("$2b$")
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())
    assert not bcrypt.checkpw(b"interop passphrase 43", stored.encode())


def insert_user(sql, licensee_id, email, password_hash):
    sql(
        "INSERT INTO users (licensee_id, role, email, password_hash, display_name) "
        f"VALUES ('{licensee_id}', 'end_user', '{email}', '{password_hash}', 'Imported')"
    )


def test_python_bcrypt_hashes_log_in_under_every_prefix(base_url, sql, demo_licensee_id):
    made_2b = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    made_2a = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4, prefix=b"2a")).decode()
    renamed_2y = "$2y$" + made_2b[4:]
    assert made_2b.startswith("$2b$") and made_2a.startswith("$2a$")
    for index, password_hash in enumerate([made_2b, made_2a, renamed_2y]):
        email = f"imported-{index}-{password_hash[1:3]}@demo.example".replace("$", "")
        insert_user(sql, demo_licensee_id, email, password_hash)
        accepted = login(base_url, email, PASSWORD)
        assert accepted.status_code == 200, (password_hash[:4], accepted.text)
        refused = login(base_url, email, PASSWORD + "!")
        assert refused.status_code == 401, (password_hash[:4], refused.text)
