# The JupyterHub the tests run (scripts/test-hub.sh starts it): loopback only, local
# processes, its files under KEYWARD_HUB_DIR, a "keyward" service with the token
# Keyward calls the REST API with, and single sign-on through the Keyward under test.
# A production hub is configured the same way for the parts marked "Keyward needs";
# see the README.
import os

c = get_config()  # noqa: F821 (provided by JupyterHub)

run = os.environ["KEYWARD_HUB_DIR"]
port = int(os.environ.get("KEYWARD_HUB_PORT", "8430"))
keyward = os.environ.get("KEYWARD_HUB_KEYWARD_URL", "http://127.0.0.1:3000")
os.makedirs(f"{run}/notebooks", exist_ok=True)

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = port + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{port + 2}"
c.ConfigurableHTTPProxy.pid_file = f"{run}/proxy.pid"
c.JupyterHub.db_url = f"sqlite:///{run}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{run}/cookie_secret"
c.JupyterHub.pid_file = f"{run}/jupyterhub.pid"

# Each person's JupyterLab as a local process (tests only: no system users).
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = f"{run}/notebooks/{{username}}"
c.Spawner.notebook_dir = f"{run}/notebooks/{{username}}"
c.Spawner.default_url = "/lab"
# The tests run as root; the single-user server refuses to without this.
c.Spawner.args = ["--allow-root"]
# Start and stop answer 202 at once; Keyward reads the state until it settles.
c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0, "slow_stop_timeout": 0}

# Keyward needs: a service token whose role may manage users and servers.
c.JupyterHub.services = [{"name": "keyward", "api_token": os.environ["KEYWARD_HUB_TOKEN"]}]
c.JupyterHub.load_roles = [
    {
        "name": "keyward",
        "scopes": ["admin:users", "admin:servers", "list:users", "read:users:activity"],
        "services": ["keyward"],
    }
]

# Keyward needs: people sign in with their Keyward account (OAuth 2.0, PKCE).
c.JupyterHub.authenticator_class = "generic-oauth"
c.GenericOAuthenticator.client_id = os.environ.get("KEYWARD_HUB_CLIENT_ID", "jupyterhub")
c.GenericOAuthenticator.client_secret = os.environ["KEYWARD_HUB_CLIENT_SECRET"]
c.GenericOAuthenticator.oauth_callback_url = f"http://127.0.0.1:{port}/hub/oauth_callback"
c.GenericOAuthenticator.authorize_url = f"{keyward}/oauth/authorize"
c.GenericOAuthenticator.token_url = f"{keyward}/oauth/token"
c.GenericOAuthenticator.userdata_url = f"{keyward}/oauth/userinfo"
c.GenericOAuthenticator.scope = ["openid", "profile"]
c.GenericOAuthenticator.username_claim = "preferred_username"
c.GenericOAuthenticator.enable_pkce = True
c.GenericOAuthenticator.allow_all = True
c.Authenticator.auto_login = True
