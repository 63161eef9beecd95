<#
.SYNOPSIS
    Sends this computer's recent Windows Update failures to Fleet errors.

.DESCRIPTION
    Reads the Microsoft-Windows-WindowsUpdateClient/Operational event log for failure events
    (16 cannot connect, 20 install failed, 25 scan failed, 31 download failed), takes the error
    code from each event's data, and posts them as one JSON batch per -BatchSize events to
    POST <Url>/api/v1/occurrences with the tenant's ingest key.

    Each occurrence carries the event's record id and the computer name as event_id, so running
    the script again over the same hours (as a scheduled task does) stores nothing twice.

.PARAMETER Url
    Base address of Fleet errors, e.g. https://fleet.example.com

.PARAMETER Key
    The tenant's ingest key (python manage.py create_ingest_key TENANT). Defaults to the
    FLEET_INGEST_KEY environment variable so the key need not appear on a command line.

.PARAMETER Hours
    How far back to read the event log. Default 24.

.PARAMETER BatchSize
    Occurrences per request, at most 5000. Default 500.

.PARAMETER DryRun
    Print the JSON that would be sent and send nothing.

.EXAMPLE
    .\Send-FleetErrors.ps1 -Url https://fleet.example.com -Key fk_1a2b3c4d_... -Hours 2
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $Url,
    [string] $Key = $env:FLEET_INGEST_KEY,
    [ValidateRange(1, 8760)] [int] $Hours = 24,
    [ValidateRange(1, 5000)] [int] $BatchSize = 500,
    [switch] $DryRun
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$LogName = 'Microsoft-Windows-WindowsUpdateClient/Operational'
$FailureEventIds = 16, 20, 25, 31

if (-not $DryRun -and [string]::IsNullOrWhiteSpace($Key)) {
    throw 'No ingest key: pass -Key or set FLEET_INGEST_KEY.'
}

function Get-EntraDeviceId {
    # dsregcmd prints "DeviceId : <guid>" on Entra-joined and hybrid-joined devices.
    try {
        $match = dsregcmd /status 2>$null | Select-String -Pattern '^\s*DeviceId\s*:\s*([0-9a-fA-F-]{36})'
        if ($match) { return $match[0].Matches[0].Groups[1].Value }
    } catch { }
    return ''
}

function Get-EventDataValue([xml] $EventXml, [string] $Name) {
    foreach ($data in $EventXml.Event.EventData.Data) {
        if ($data.Name -eq $Name) { return [string] $data.'#text' }
    }
    return ''
}

function Limit-Text([string] $Text, [int] $Length) {
    if ($null -eq $Text) { return '' }
    if ($Text.Length -gt $Length) { return $Text.Substring(0, $Length) }
    return $Text
}

$since = (Get-Date).AddHours(-$Hours)
try {
    $events = @(Get-WinEvent -FilterHashtable @{ LogName = $LogName; Id = $FailureEventIds; StartTime = $since })
} catch {
    if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { $events = @() } else { throw }
}

$computer = $env:COMPUTERNAME
$entraId = Get-EntraDeviceId
$items = @(
    foreach ($event in $events) {
        $xml = [xml] $event.ToXml()
        $code = Get-EventDataValue $xml 'errorCode'
        if ([string]::IsNullOrWhiteSpace($code)) { continue }
        $title = Limit-Text (Get-EventDataValue $xml 'updateTitle') 500
        $kb = ''
        if ($title -match 'KB\s?(\d{6,8})') { $kb = 'KB' + $Matches[1] }
        $message = ''
        if ($event.Message) { $message = Limit-Text (($event.Message -split "`r?`n")[0]) 4000 }
        [ordered] @{
            device       = [ordered] @{ hostname = $computer; entra_device_id = $entraId }
            code         = $code.Trim()
            # ISO 8601 in UTC with the zone written out, as the API requires.
            occurred_at  = $event.TimeCreated.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [Globalization.CultureInfo]::InvariantCulture)
            source       = 'agent'
            update_title = $title
            kb           = $kb
            message      = $message
            event_id     = '{0}@{1}' -f $event.RecordId, $computer
        }
    }
)

if ($items.Count -eq 0) {
    Write-Output "No Windows Update failures in the last $Hours hour(s)."
    return
}

# Windows PowerShell 5.1 may default to TLS 1.0.
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
$endpoint = $Url.TrimEnd('/') + '/api/v1/occurrences'
$headers = @{ Authorization = "Bearer $Key" }

for ($start = 0; $start -lt $items.Count; $start += $BatchSize) {
    $end = [Math]::Min($start + $BatchSize, $items.Count) - 1
    # -InputObject keeps a one-item batch a JSON list.
    $json = ConvertTo-Json -InputObject @($items[$start..$end]) -Depth 5 -Compress
    if ($DryRun) {
        Write-Output $json
        continue
    }
    $body = [Text.Encoding]::UTF8.GetBytes($json)
    $answer = Invoke-RestMethod -Method Post -Uri $endpoint -Headers $headers -ContentType 'application/json; charset=utf-8' -Body $body
    Write-Output ('Sent {0} event(s): {1} stored, {2} already stored, {3} rejected.' -f ($end - $start + 1), $answer.accepted, $answer.duplicates, $answer.rejected)
    foreach ($problem in $answer.errors) {
        Write-Warning ('item {0}, {1}: {2}' -f ($start + $problem.index), $problem.field, $problem.message)
    }
}
