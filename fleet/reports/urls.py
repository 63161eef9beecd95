from django.urls import path

from fleet.reports import views

app_name = "reports"
urlpatterns = [
    path("tenants/<slug:slug>/report/", views.report_page, name="page"),
    path("tenants/<slug:slug>/report/pdf/", views.report_pdf, name="pdf"),
]
