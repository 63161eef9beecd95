"""Settings pages of tenant admins (people, audit) and the invitation link. Thin: parse, check
the role through `fleet.access`, call `fleet.accounts.people`, render."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from fleet.access import administrable_tenants, is_msp_admin
from fleet.accounts import people
from fleet.accounts.language import chosen_language
from fleet.accounts.models import AuditEntry
from fleet.api_auth import create_api_token, revoke
from fleet.models import ApiToken, Role, Tenant, TenantGrant


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Where the settings pages are, for what this person may do."""
    return render(
        request,
        "settings/index.html",
        {
            "administers": administrable_tenants(request.user).exists(),
            "msp_admin": is_msp_admin(request.user),
            "my_language": chosen_language(request.user),
        },
    )


def _administrable_or_403(request: HttpRequest):
    tenants = administrable_tenants(request.user)
    if not tenants.exists():
        raise PermissionDenied("Settings need the admin role on a tenant.")
    return tenants


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    tenant = forms.ModelChoiceField(label=_("Tenant"), queryset=None, to_field_name="slug")
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.OPERATOR)

    def __init__(self, *args, tenants, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants


@login_required
@require_http_methods(["GET", "POST"])
def people_page(request: HttpRequest) -> HttpResponse:
    """Grants of the tenants the user administers, and the invitation form."""
    tenants = _administrable_or_403(request)
    form = InviteForm(request.POST or None, tenants=tenants)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        people.invite(
            request.user,
            data["tenant"],
            data["email"],
            data["role"],
            lambda token: request.build_absolute_uri(reverse("invitation", args=[token])),
        )
        messages.success(
            request, gettext("Invitation sent to %(email)s.") % {"email": data["email"]}
        )
        return redirect("settings-people")
    grants = (
        TenantGrant.objects.filter(tenant__in=tenants)
        .select_related("tenant", "user")
        .order_by("tenant__name", "user__username")
    )
    return render(
        request,
        "settings/people.html",
        {"form": form, "grants": grants, "roles": Role.choices},
        status=400 if form.is_bound else 200,
    )


def _grant_or_404(request: HttpRequest, pk: int) -> TenantGrant:
    return get_object_or_404(
        TenantGrant.objects.select_related("tenant", "user"),
        pk=pk,
        tenant__in=administrable_tenants(request.user),
    )


@login_required
@require_POST
def grant_role(request: HttpRequest, pk: int) -> HttpResponse:
    _administrable_or_403(request)
    grant = _grant_or_404(request, pk)
    role = request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, gettext("Role: choose viewer, operator or admin."))
    else:
        people.set_role(request.user, grant, role)
    return redirect("settings-people")


@login_required
@require_POST
def grant_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _administrable_or_403(request)
    people.remove(request.user, _grant_or_404(request, pk))
    return redirect("settings-people")


class NewAccountForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=12)

    def clean_username(self) -> str:
        name = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=name).exists():
            raise forms.ValidationError(gettext("That username is taken."))
        return name


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link: a signed-in person accepts it; anyone else makes a local account."""
    try:
        invite = people.open_invitation(token)
    except people.InvitationRefused as exc:
        return render(request, "settings/invitation.html", {"refused": str(exc)}, status=410)
    form = NewAccountForm(request.POST or None)
    if request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        if user is None and form.is_valid():
            user = get_user_model().objects.create_user(
                form.cleaned_data["username"],
                invite.email,
                form.cleaned_data["password"],
            )
        if user is not None:
            try:
                people.accept(token, user)
            except people.InvitationRefused as exc:
                return render(
                    request, "settings/invitation.html", {"refused": str(exc)}, status=410
                )
            if not request.user.is_authenticated:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                gettext("You now hold %(tenant)s as %(role)s.")
                % {"tenant": invite.tenant, "role": invite.role},
            )
            return redirect("/")
    return render(request, "settings/invitation.html", {"invite": invite, "form": form})


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    """Audit entries: every one for an MSP-wide admin, those of their tenants for others."""
    tenants = _administrable_or_403(request)
    entries = AuditEntry.objects.select_related("actor", "tenant")
    if not is_msp_admin(request.user):
        entries = entries.filter(tenant__in=tenants)
    return render(request, "settings/audit.html", {"entries": entries[:500]})


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own API tokens: create (shown once) and list."""
    created = None
    if request.method == "POST":
        # A name is a label: control characters (NUL, which PostgreSQL refuses) are dropped.
        name = "".join(c for c in request.POST.get("name", "") if c.isprintable())[:100]
        record, token = create_api_token(request.user, name)
        people.audit(request.user, "api_token.create", str(record), prefix=record.prefix)
        created = {"record": record, "token": token}
    tokens = ApiToken.objects.filter(owner=request.user).order_by("-created_at")
    return render(request, "settings/tokens.html", {"tokens": tokens, "created": created})


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, owner=request.user)
    if token.revoked_at is None:
        revoke(token)
        people.audit(request.user, "api_token.revoke", str(token), prefix=token.prefix)
    return redirect("settings-tokens")


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "time_zone"]
        labels = {"slug": _("Short name (in URLs)"), "name": _("Name"), "time_zone": _("Time zone")}
        help_texts = {
            "time_zone": _("IANA time zone of the customer (e.g. Europe/Paris): alert quiet hours.")
        }

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                gettext("Not an IANA time zone (e.g. Europe/Paris).")
            ) from None
        return value


def _msp_admin_or_403(request: HttpRequest) -> None:
    if not is_msp_admin(request.user):
        raise PermissionDenied("Tenants are managed by MSP-wide admins.")


@login_required
@require_http_methods(["GET", "POST"])
def tenants_page(request: HttpRequest) -> HttpResponse:
    """MSP-wide admins: every tenant, archived ones included, and the form to create one."""
    _msp_admin_or_403(request)
    form = TenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tenant = form.save()
        people.audit(request.user, "tenant.create", tenant.slug, tenant, name=tenant.name)
        return redirect("settings-tenants")
    return render(
        request,
        "settings/tenants.html",
        {"form": form, "tenants": Tenant.objects.order_by("name")},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def tenant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename, change the time zone, archive or restore one tenant."""
    _msp_admin_or_403(request)
    tenant = get_object_or_404(Tenant, pk=pk)
    if request.method == "POST" and request.POST.get("archive") in ("1", "0"):
        archive = request.POST["archive"] == "1"
        tenant.archived_at = timezone.now() if archive else None
        tenant.save(update_fields=["archived_at"])
        action = "tenant.archive" if archive else "tenant.restore"
        people.audit(request.user, action, tenant.slug, tenant)
        return redirect("settings-tenants")
    before = {"name": tenant.name, "slug": tenant.slug, "time_zone": tenant.time_zone}
    form = TenantForm(request.POST or None, instance=tenant)
    if request.method == "POST" and form.is_valid():
        form.save()
        people.audit(request.user, "tenant.edit", tenant.slug, tenant, before=before)
        return redirect("settings-tenants")
    return render(
        request,
        "settings/tenant_edit.html",
        {"form": form, "tenant": tenant},
        status=400 if form.is_bound else 200,
    )
