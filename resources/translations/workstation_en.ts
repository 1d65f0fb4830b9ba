<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
    <context>
        <name>BrowserWidget</name>
        <message numerus="yes">
            <source>%n study(ies)</source>
            <translation>
                <numerusform>%n study</numerusform>
                <numerusform>%n studies</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n+ studies…</source>
            <translation>
                <numerusform>%n+ studies…</numerusform>
                <numerusform>%n+ studies…</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>Counts</name>
        <message numerus="yes">
            <source>%n study(ies)</source>
            <translation>
                <numerusform>%n study</numerusform>
                <numerusform>%n studies</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n series</source>
            <translation>
                <numerusform>%n series</numerusform>
                <numerusform>%n series</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n image(s)</source>
            <translation>
                <numerusform>%n image</numerusform>
                <numerusform>%n images</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n file(s)</source>
            <translation>
                <numerusform>%n file</numerusform>
                <numerusform>%n files</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>all %n file(s)</source>
            <translation>
                <numerusform>all %n file</numerusform>
                <numerusform>all %n files</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n instance(s) deleted</source>
            <translation>
                <numerusform>%n instance deleted</numerusform>
                <numerusform>%n instances deleted</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>ImportReportDialog</name>
        <message numerus="yes">
            <source>%n file(s) rejected</source>
            <translation>
                <numerusform>%n file rejected</numerusform>
                <numerusform>%n files rejected</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n file(s) skipped (not DICOM)</source>
            <translation>
                <numerusform>%n file skipped (not DICOM)</numerusform>
                <numerusform>%n files skipped (not DICOM)</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n file(s) repaired on the way in</source>
            <translation>
                <numerusform>%n file repaired on the way in</numerusform>
                <numerusform>%n files repaired on the way in</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n file(s) on the medium not listed in it (imported too)</source>
            <translation>
                <numerusform>%n file on the medium not listed in it (imported too)</numerusform>
                <numerusform>%n files on the medium not listed in it (imported too)</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>KeyImages</name>
        <message numerus="yes">
            <source>%n key image(s) not in the archive: not shown.</source>
            <translation>
                <numerusform>%n key image not in the archive: not shown.</numerusform>
                <numerusform>%n key images not in the archive: not shown.</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>The key images differ in size: shown as %n stack(s), in order.</source>
            <translation>
                <numerusform>The key images differ in size: shown as %n stack, in order.</numerusform>
                <numerusform>The key images differ in size: shown as %n stacks, in order.</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>ListenerController</name>
        <message numerus="yes">
            <source>%n received</source>
            <translation>
                <numerusform>%n received</numerusform>
                <numerusform>%n received</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>, %n failed</source>
            <translation>
                <numerusform>, %n failed</numerusform>
                <numerusform>, %n failed</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message numerus="yes">
            <source>%n received today</source>
            <translation>
                <numerusform>%n received today</numerusform>
                <numerusform>%n received today</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n job(s) running</source>
            <translation>
                <numerusform>%n job running</numerusform>
                <numerusform>%n jobs running</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n item(s)</source>
            <translation>
                <numerusform>%n item</numerusform>
                <numerusform>%n items</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>NodeChooser</name>
        <message numerus="yes">
            <source>All %n nodes: </source>
            <translation>
                <numerusform>All %n nodes: </numerusform>
                <numerusform>All %n nodes: </numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>PresentationStates</name>
        <message numerus="yes">
            <source>Presentation state saved in the archive (%n mark(s))</source>
            <translation>
                <numerusform>Presentation state saved in the archive (%n mark)</numerusform>
                <numerusform>Presentation state saved in the archive (%n marks)</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>(%n image(s) not in this series)</source>
            <translation>
                <numerusform>(%n image not in this series)</numerusform>
                <numerusform>(%n images not in this series)</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>PriorsPanel</name>
        <message numerus="yes">
            <source>%n other study(ies) of %1 (%2)</source>
            <translation>
                <numerusform>%n other study of %1 (%2)</numerusform>
                <numerusform>%n other studies of %1 (%2)</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>QueryRetrievePanel</name>
        <message numerus="yes">
            <source>%n study(ies) found</source>
            <translation>
                <numerusform>%n study found</numerusform>
                <numerusform>%n studies found</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n found</source>
            <translation>
                <numerusform>%n found</numerusform>
                <numerusform>%n found</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n study(ies) found on %1</source>
            <translation>
                <numerusform>%n study found on %1</numerusform>
                <numerusform>%n studies found on %1</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n instance(s) already in the local archive</source>
            <translation>
                <numerusform>%n instance already in the local archive</numerusform>
                <numerusform>%n instances already in the local archive</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n instance(s) in the local archive; the node did not say how many the study has</source>
            <translation>
                <numerusform>%n instance in the local archive; the node did not say how many the study has</numerusform>
                <numerusform>%n instances in the local archive; the node did not say how many the study has</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Only %1 of the %n image(s) of this study are in the local archive</source>
            <translation>
                <numerusform>Only %1 of the %n image of this study are in the local archive</numerusform>
                <numerusform>Only %1 of the %n images of this study are in the local archive</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n series found</source>
            <translation>
                <numerusform>%n series found</numerusform>
                <numerusform>%n series found</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n retrieve(s) started; see the Activity panel.</source>
            <translation>
                <numerusform>%n retrieve started; see the Activity panel.</numerusform>
                <numerusform>%n retrieves started; see the Activity panel.</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>ReferenceLines</name>
        <message numerus="yes">
            <source>not within the images of %n viewport(s)</source>
            <translation>
                <numerusform>not within the images of %n viewport</numerusform>
                <numerusform>not within the images of %n viewports</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>SeriesPanel</name>
        <message numerus="yes">
            <source>%n image(s)</source>
            <translation>
                <numerusform>%n image</numerusform>
                <numerusform>%n images</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>ThumbnailStrip</name>
        <message numerus="yes">
            <source>%n image(s)</source>
            <translation>
                <numerusform>%n image</numerusform>
                <numerusform>%n images</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>ViewerWindow</name>
        <message numerus="yes">
            <source>%n series</source>
            <translation>
                <numerusform>%n series</numerusform>
                <numerusform>%n series</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>_ExportText</name>
        <message numerus="yes">
            <source>cancelled after %n instance(s)</source>
            <translation>
                <numerusform>cancelled after %n instance</numerusform>
                <numerusform>cancelled after %n instances</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n instance(s) exported to %1</source>
            <translation>
                <numerusform>%n instance exported to %1</numerusform>
                <numerusform>%n instances exported to %1</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n failed</source>
            <translation>
                <numerusform>%n failed</numerusform>
                <numerusform>%n failed</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>_ImportText</name>
        <message numerus="yes">
            <source>%n imported</source>
            <translation>
                <numerusform>%n imported</numerusform>
                <numerusform>%n imported</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n already in the archive</source>
            <translation>
                <numerusform>%n already in the archive</numerusform>
                <numerusform>%n already in the archive</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n skipped</source>
            <translation>
                <numerusform>%n skipped</numerusform>
                <numerusform>%n skipped</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n rejected</source>
            <translation>
                <numerusform>%n rejected</numerusform>
                <numerusform>%n rejected</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>_Plurals</name>
        <message numerus="yes">
            <source>(+%n other study(ies))</source>
            <translation>
                <numerusform>(+%n other study)</numerusform>
                <numerusform>(+%n other studies)</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n item(s)</source>
            <translation>
                <numerusform>%n item</numerusform>
                <numerusform>%n items</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>_SeriesText</name>
        <message numerus="yes">
            <source>… %n more line(s): Tags shows the whole content</source>
            <translation>
                <numerusform>… %n more line: Tags shows the whole content</numerusform>
                <numerusform>… %n more lines: Tags shows the whole content</numerusform>
            </translation>
        </message>
    </context>
</TS>
