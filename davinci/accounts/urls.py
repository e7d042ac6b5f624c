from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from davinci.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", login_not_required(views.SignInView.as_view()), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch/", views.switch_account, name="switch_account"),
]
