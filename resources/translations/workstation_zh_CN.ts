<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name></name>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>无法读取 %1：%2</translation>
    </message>
    <message>
        <source>%1 is not a DICOM file.</source>
        <translation>%1 不是 DICOM 文件。</translation>
    </message>
    <message>
        <source>%1 object without images</source>
        <translation>不含图像的 %1 对象</translation>
    </message>
</context>
<context>
    <name>ActivityPanel</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Report…</source>
        <translation>报告…</translation>
    </message>
    <message>
        <source>Clear finished</source>
        <translation>清除已完成</translation>
    </message>
    <message>
        <source>Report: %s</source>
        <translation>报告：%s</translation>
    </message>
</context>
<context>
    <name>BrowserWidget</name>
    <message>
        <source>Search name, patient ID, accession, description…  (Ctrl+F)</source>
        <translation>搜索姓名、患者 ID、检查号、描述…  (Ctrl+F)</translation>
    </message>
    <message>
        <source>All dates</source>
        <translation>全部日期</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>昨天</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>All modalities</source>
        <translation>全部设备类型</translation>
    </message>
    <message>
        <source>No study matches the search and filters.</source>
        <translation>没有符合搜索和筛选条件的检查。</translation>
    </message>
    <message>
        <source>No studies yet.

Import files or a folder (File ▸ Import files… Ctrl+O, Import folder… Ctrl+Shift+O), drop them on this window, or retrieve them from a PACS on the Query/Retrieve tab. Studies sent to this workstation over DICOM appear here too.</source>
        <translation>尚无检查。

导入文件或文件夹（文件 ▸ 导入文件… Ctrl+O，导入文件夹… Ctrl+Shift+O），将其拖放到本窗口，或在“查询/调阅”页从 PACS 调阅。通过 DICOM 发送到本工作站的检查也会显示在这里。</translation>
    </message>
    <message numerus="yes">
        <source>%n study(ies)</source>
        <translation>
            <numerusform>%n 个检查</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n+ studies…</source>
        <translation>
            <numerusform>%n+ 个检查…</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CoreText</name>
    <message>
        <source>cannot reach %1: unknown host %2</source>
        <translation>无法访问 %1：未知主机 %2</translation>
    </message>
    <message>
        <source>cannot connect to %1: connection refused or no route (is the node running and are host and port right?)</source>
        <translation>无法连接 %1：连接被拒绝或无路由（节点是否在运行？主机和端口是否正确？）</translation>
    </message>
    <message>
        <source>%1 accepted the connection but did not answer the association request within %2 s</source>
        <translation>%1 接受了连接，但未在 %2 秒内响应关联请求</translation>
    </message>
    <message>
        <source>%1 rejected the association (check its AE title %2 and that it knows ours)</source>
        <translation>%1 拒绝了关联（请检查其 AE 名称 %2，并确认它已配置本机）</translation>
    </message>
    <message>
        <source>%1 closed the connection during association negotiation (check the AE titles on both sides)</source>
        <translation>%1 在关联协商期间关闭了连接（请检查双方的 AE 名称）</translation>
    </message>
    <message>
        <source>%1 accepted the association but none of the proposed services (SOP classes / transfer syntaxes)</source>
        <translation>%1 接受了关联，但不支持所提出的任何服务（SOP 类 / 传输语法）</translation>
    </message>
    <message>
        <source>%1 permanently rejected the association (%2, source: %3)%4</source>
        <translation>%1 永久拒绝了关联（%2，来源：%3）%4</translation>
    </message>
    <message>
        <source>%1 transiently rejected the association (%2, source: %3)%4</source>
        <translation>%1 暂时拒绝了关联（%2，来源：%3）%4</translation>
    </message>
    <message>
        <source>: the node does not know this workstation&apos;s AE title %1 - add %2 and this computer&apos;s host/port to its configuration</source>
        <translation>：该节点不认识本工作站的 AE 名称 %1——请在其配置中添加 %2 及本机的主机/端口</translation>
    </message>
    <message>
        <source>: check the node&apos;s AE title (we called it %1)</source>
        <translation>：请检查该节点的 AE 名称（本机呼叫的是 %1）</translation>
    </message>
    <message>
        <source>: the node is busy, try again later</source>
        <translation>：该节点正忙，请稍后重试</translation>
    </message>
    <message>
        <source>%1 did not answer the C-ECHO within %2 s</source>
        <translation>%1 未在 %2 秒内响应 C-ECHO</translation>
    </message>
    <message>
        <source>%1 answered the C-ECHO with status %2</source>
        <translation>%1 以状态 %2 响应了 C-ECHO</translation>
    </message>
    <message>
        <source>%1 failed the C-FIND: status %2 (%3)</source>
        <translation>%1 的 C-FIND 失败：状态 %2（%3）</translation>
    </message>
    <message>
        <source>%1 does not support %2-root C-FIND</source>
        <translation>%1 不支持 %2 根 C-FIND</translation>
    </message>
    <message>
        <source>query cancelled</source>
        <translation>查询已取消</translation>
    </message>
    <message>
        <source>unknown node %1 (known nodes: %2); give a node name or AET@HOST:PORT</source>
        <translation>未知节点 %1（已知节点：%2）；请给出节点名称或 AET@主机:端口</translation>
    </message>
    <message>
        <source>a node named %1 already exists (remove it first)</source>
        <translation>名为 %1 的节点已存在（请先删除）</translation>
    </message>
    <message>
        <source>no node named %1</source>
        <translation>没有名为 %1 的节点</translation>
    </message>
    <message>
        <source>port %1 is already in use (another DICOM server?): choose another with `workstation config set port N`</source>
        <translation>端口 %1 已被占用（另一个 DICOM 服务器？）：请用 `workstation config set port N` 另选端口</translation>
    </message>
    <message>
        <source>not allowed to listen on port %1 (ports below 1024 need privileges): choose another with `workstation config set port N`</source>
        <translation>无权在端口 %1 上监听（1024 以下的端口需要特权）：请用 `workstation config set port N` 另选端口</translation>
    </message>
    <message>
        <source>cannot listen on %1: %2</source>
        <translation>无法在 %1 上监听：%2</translation>
    </message>
    <message>
        <source>not a DICOM file (no preamble and no recognisable DICOM elements)</source>
        <translation>不是 DICOM 文件（无前导码，也无可识别的 DICOM 元素）</translation>
    </message>
    <message>
        <source>not a DICOM file (%1)</source>
        <translation>不是 DICOM 文件（%1）</translation>
    </message>
    <message>
        <source>not a DICOM file</source>
        <translation>不是 DICOM 文件</translation>
    </message>
    <message>
        <source>empty file</source>
        <translation>空文件</translation>
    </message>
    <message>
        <source>not a regular file (%1)</source>
        <translation>不是普通文件（%1）</translation>
    </message>
    <message>
        <source>a DICOMDIR (media directory), not an instance</source>
        <translation>这是 DICOMDIR（介质目录），不是实例</translation>
    </message>
    <message>
        <source>unreadable DICOM: sequences nested too deeply to read</source>
        <translation>无法读取的 DICOM：序列嵌套过深</translation>
    </message>
    <message>
        <source>unreadable DICOM: %1</source>
        <translation>无法读取的 DICOM：%1</translation>
    </message>
    <message>
        <source>unreadable: %1</source>
        <translation>无法读取：%1</translation>
    </message>
    <message>
        <source>cannot read: %1</source>
        <translation>无法读取：%1</translation>
    </message>
    <message>
        <source>truncated: %1</source>
        <translation>文件不完整（截断）：%1</translation>
    </message>
    <message>
        <source>cannot copy into the archive: %1</source>
        <translation>无法复制到存档：%1</translation>
    </message>
    <message>
        <source>[Errno %1] no space left on the archive&apos;s disk: %2</source>
        <translation>[错误 %1] 存档所在磁盘空间已满：%2</translation>
    </message>
    <message>
        <source>no space left on the archive&apos;s disk</source>
        <translation>存档所在磁盘空间已满</translation>
    </message>
    <message>
        <source>cannot open the archive in %1: %2</source>
        <translation>无法打开 %1 中的存档：%2</translation>
    </message>
    <message>
        <source>the archive is open in another process (app or serve): close it before a rebuild</source>
        <translation>存档正被另一个进程（应用程序或 serve）打开：重建前请先关闭它</translation>
    </message>
    <message>
        <source>nothing to export: no instance matches</source>
        <translation>没有可导出的内容：没有匹配的实例</translation>
    </message>
    <message>
        <source>%1 already exists: choose a new name</source>
        <translation>%1 已存在：请另选名称</translation>
    </message>
    <message>
        <source>%1 is a file, not a folder</source>
        <translation>%1 是文件，不是文件夹</translation>
    </message>
    <message>
        <source>cannot write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>none of the images of these measurements is in the archive</source>
        <translation>这些测量所在的图像都不在存档中</translation>
    </message>
    <message>
        <source>presentation state not written: %1</source>
        <translation>显示状态未写入：%1</translation>
    </message>
    <message>
        <source>none of the key images is in the archive</source>
        <translation>关键图像都不在存档中</translation>
    </message>
    <message>
        <source>study %1 is not in the archive</source>
        <translation>检查 %1 不在存档中</translation>
    </message>
    <message>
        <source>no images</source>
        <translation>没有图像</translation>
    </message>
    <message>
        <source>%1 series mixed; a volume is made of one</source>
        <translation>混有 %1 个序列；容积只能由一个序列构成</translation>
    </message>
    <message>
        <source>localizer images mixed in (%1 of %2 images)</source>
        <translation>混有定位像（%2 幅图像中有 %1 幅）</translation>
    </message>
    <message>
        <source>mixed image sizes (%1)</source>
        <translation>图像尺寸不一致（%1）</translation>
    </message>
    <message>
        <source>images not parallel (%1 different orientations)</source>
        <translation>图像互不平行（%1 种不同方向）</translation>
    </message>
    <message>
        <source>images from several frames of reference</source>
        <translation>图像来自多个参考坐标系</translation>
    </message>
    <message>
        <source>the images form %1 separate stacks</source>
        <translation>图像构成 %1 个互相独立的图像堆栈</translation>
    </message>
    <message>
        <source>too few images (%1; a volume needs at least %2)</source>
        <translation>图像太少（%1 幅；容积至少需要 %2 幅）</translation>
    </message>
    <message>
        <source>color images are not reconstructed</source>
        <translation>彩色图像不做重建</translation>
    </message>
    <message>
        <source>%1 of %2 images have no ImagePositionPatient</source>
        <translation>%2 幅图像中有 %1 幅没有 ImagePositionPatient（图像位置）</translation>
    </message>
    <message>
        <source>images without ImageOrientationPatient</source>
        <translation>图像没有 ImageOrientationPatient（图像方向）</translation>
    </message>
    <message>
        <source>images without PixelSpacing</source>
        <translation>图像没有 PixelSpacing（像素间距）</translation>
    </message>
    <message>
        <source>localizer images</source>
        <translation>定位像</translation>
    </message>
    <message>
        <source>image orientation is not a pair of perpendicular directions</source>
        <translation>图像方向不是一对互相垂直的方向</translation>
    </message>
    <message>
        <source>images not parallel</source>
        <translation>图像互不平行</translation>
    </message>
    <message>
        <source>PixelSpacing is not a positive size</source>
        <translation>PixelSpacing（像素间距）不是正值</translation>
    </message>
    <message>
        <source>pixel spacing differs between images</source>
        <translation>各图像的像素间距不同</translation>
    </message>
    <message>
        <source>rescale slope/intercept differs between images</source>
        <translation>各图像的重标斜率/截距不同</translation>
    </message>
    <message>
        <source>too few images per time point (%1)</source>
        <translation>每个时相的图像太少（%1 幅）</translation>
    </message>
    <message>
        <source>gantry tilt %1°, resampled</source>
        <translation>机架倾斜 %1°，已重采样</translation>
    </message>
    <message>
        <source>slices shifted within their plane, resampled</source>
        <translation>层面在其平面内有偏移，已重采样</translation>
    </message>
    <message>
        <source>uneven slice spacing (%1–%2 mm), resampled to %3 mm</source>
        <translation>层间距不均匀（%1–%2 mm），已重采样为 %3 mm</translation>
    </message>
    <message>
        <source>several images per position (%1 of %2 positions) and no time point tells them apart</source>
        <translation>同一位置有多幅图像（%2 个位置中的 %1 个），且没有时相信息可区分它们</translation>
    </message>
    <message>
        <source>no time point %1 (the series has %2)</source>
        <translation>没有时相 %1（该序列共有 %2 个）</translation>
    </message>
    <message>
        <source>the volume needs %1 MiB, more than the memory budget (%2 MiB; raise memory_budget_fraction in the settings)</source>
        <translation>容积需要 %1 MiB，超出内存预算（%2 MiB；请在设置中提高 memory_budget_fraction）</translation>
    </message>
    <message>
        <source>the series (%1 MiB) does not fit the frame cache&apos;s memory budget (%2 MiB; raise memory_budget_fraction in the settings)</source>
        <translation>该序列（%1 MiB）超出帧缓存的内存预算（%2 MiB；请在设置中提高 memory_budget_fraction）</translation>
    </message>
    <message>
        <source>time point %1 of %2</source>
        <translation>时相 %1/%2</translation>
    </message>
    <message>
        <source>Connection refused</source>
        <translation>连接被拒绝</translation>
    </message>
    <message>
        <source>No space left on device</source>
        <translation>设备上没有剩余空间</translation>
    </message>
    <message>
        <source>Permission denied</source>
        <translation>权限不足</translation>
    </message>
    <message>
        <source>No such file or directory</source>
        <translation>没有该文件或目录</translation>
    </message>
    <message>
        <source>Is a directory</source>
        <translation>是一个目录</translation>
    </message>
    <message>
        <source>timed out</source>
        <translation>超时</translation>
    </message>
</context>
<context>
    <name>Counts</name>
    <message numerus="yes">
        <source>%n study(ies)</source>
        <translation>
            <numerusform>%n 个检查</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n series</source>
        <translation>
            <numerusform>%n 个序列</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n 幅图像</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n file(s)</source>
        <translation>
            <numerusform>%n 个文件</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>all %n file(s)</source>
        <translation>
            <numerusform>全部 %n 个文件</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n instance(s) deleted</source>
        <translation>
            <numerusform>已删除 %n 个实例</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Folder (Patient/Study/Series/IMnnnnn.dcm)</source>
        <translation>文件夹（患者/检查/序列/IMnnnnn.dcm）</translation>
    </message>
    <message>
        <source>ZIP archive</source>
        <translation>ZIP 压缩包</translation>
    </message>
    <message>
        <source>DICOMDIR folder (for a CD, DVD or USB stick)</source>
        <translation>DICOMDIR 文件夹（用于光盘或 U 盘）</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Destination:</source>
        <translation>目标位置：</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <source>De-identify (names, IDs, institution, UIDs, private tags; dates kept)</source>
        <translation>去标识化（姓名、ID、机构、UID、私有标签；保留日期）</translation>
    </message>
    <message>
        <source>random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>New patient name:</source>
        <translation>新患者姓名：</translation>
    </message>
    <message>
        <source>New patient ID:</source>
        <translation>新患者 ID：</translation>
    </message>
    <message>
        <source>Export to ZIP</source>
        <translation>导出为 ZIP</translation>
    </message>
    <message>
        <source>ZIP archives (*.zip)</source>
        <translation>ZIP 压缩包 (*.zip)</translation>
    </message>
    <message>
        <source>Export into folder</source>
        <translation>导出到文件夹</translation>
    </message>
</context>
<context>
    <name>Hanging</name>
    <message>
        <source>Hanging protocol: %1 (%2 of %3) — Ctrl+P: next</source>
        <translation>挂片协议：%1（第 %2 个，共 %3 个）— Ctrl+P：下一个</translation>
    </message>
    <message>
        <source>Nothing to save: the window shows no series.</source>
        <translation>没有可保存的内容：窗口中没有序列。</translation>
    </message>
    <message>
        <source>No settings folder to save the protocol in.</source>
        <translation>没有可保存协议的设置文件夹。</translation>
    </message>
</context>
<context>
    <name>ImportReportDialog</name>
    <message>
        <source>Import finished</source>
        <translation>导入完成</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) rejected</source>
        <translation>
            <numerusform>%n 个文件被拒绝</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) skipped (not DICOM)</source>
        <translation>
            <numerusform>跳过 %n 个文件（非 DICOM）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) repaired on the way in</source>
        <translation>
            <numerusform>导入时修复了 %n 个文件</numerusform>
        </translation>
    </message>
    <message>
        <source>DICOMDIR {path}: {listed} listed, {found} found, {missing} missing</source>
        <translation>DICOMDIR {path}：列出 {listed} 个，找到 {found} 个，缺失 {missing} 个</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) on the medium not listed in it (imported too)</source>
        <translation>
            <numerusform>介质上有 %n 个文件未列入 DICOMDIR（也已导入）</numerusform>
        </translation>
    </message>
    <message>
        <source>Missing</source>
        <translation>缺失</translation>
    </message>
    <message>
        <source>listed in the DICOMDIR, not on the medium</source>
        <translation>列于 DICOMDIR 中，但介质上没有</translation>
    </message>
    <message>
        <source>Not listed</source>
        <translation>未列出</translation>
    </message>
    <message>
        <source>on the medium, not in its DICOMDIR; imported</source>
        <translation>在介质上但不在其 DICOMDIR 中；已导入</translation>
    </message>
    <message>
        <source>DICOMDIR</source>
        <translation>DICOMDIR</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>已拒绝</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <source>Repaired</source>
        <translation>已修复</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
</context>
<context>
    <name>Job</name>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>cancelling…</source>
        <translation>正在取消…</translation>
    </message>
</context>
<context>
    <name>JobState</name>
    <message>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>partial</source>
        <translation>部分完成</translation>
    </message>
</context>
<context>
    <name>JobTableModel</name>
    <message>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>%1/%2 (%3 failed)</source>
        <translation>%1/%2（%3 个失败）</translation>
    </message>
</context>
<context>
    <name>KeyImages</name>
    <message>
        <source>Key image</source>
        <translation>关键图像</translation>
    </message>
    <message>
        <source>Mark or unmark the image shown as a key image (K)</source>
        <translation>将当前图像标记为关键图像或取消标记 (K)</translation>
    </message>
    <message>
        <source>Key images</source>
        <translation>关键图像</translation>
    </message>
    <message>
        <source>Show the study&apos;s key images as one stack</source>
        <translation>将本检查的关键图像作为一个序列显示</translation>
    </message>
    <message>
        <source>Save key images</source>
        <translation>保存关键图像</translation>
    </message>
    <message>
        <source>Key image note…</source>
        <translation>关键图像备注…</translation>
    </message>
    <message>
        <source>&amp;Key images</source>
        <translation>关键图像(&amp;K)</translation>
    </message>
    <message>
        <source>A key object selection could not be read: {0}</source>
        <translation>无法读取关键对象选择文档：{0}</translation>
    </message>
    <message>
        <source>The key images could not be read: {0}</source>
        <translation>无法读取关键图像：{0}</translation>
    </message>
    <message>
        <source>No image to mark here.</source>
        <translation>此处没有可标记的图像。</translation>
    </message>
    <message>
        <source>Unmarked here; another system&apos;s key object selection still lists this image and it shows again when the study is opened again.</source>
        <translation>已在此取消标记；其他系统的关键对象选择文档仍包含此图像，再次打开检查时会重新显示为关键图像。</translation>
    </message>
    <message>
        <source>No longer a key image.</source>
        <translation>已取消关键图像标记。</translation>
    </message>
    <message>
        <source>Marked as key image.</source>
        <translation>已标记为关键图像。</translation>
    </message>
    <message>
        <source>Key image note</source>
        <translation>关键图像备注</translation>
    </message>
    <message>
        <source>Note saved with the study&apos;s key images (optional):</source>
        <translation>随本检查关键图像保存的备注（可选）：</translation>
    </message>
    <message>
        <source>Key images are not saved: these files were not opened from the archive.</source>
        <translation>关键图像未保存：这些文件不是从本地档案库打开的。</translation>
    </message>
    <message>
        <source>Key images saved.</source>
        <translation>关键图像已保存。</translation>
    </message>
    <message>
        <source>No key images left: ours removed.</source>
        <translation>已无关键图像：本机保存的关键图像文档已删除。</translation>
    </message>
    <message>
        <source>The key images could not be saved: {0}</source>
        <translation>无法保存关键图像：{0}</translation>
    </message>
    <message>
        <source>No key images to show.</source>
        <translation>没有可显示的关键图像。</translation>
    </message>
    <message>
        <source>This study has no key images.</source>
        <translation>本检查没有关键图像。</translation>
    </message>
    <message>
        <source>The key images could not be opened: {0}</source>
        <translation>无法打开关键图像：{0}</translation>
    </message>
    <message numerus="yes">
        <source>%n key image(s) not in the archive: not shown.</source>
        <translation>
            <numerusform>%n 幅关键图像不在本地档案库中，未显示。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>The key images differ in size: shown as %n stack(s), in order.</source>
        <translation>
            <numerusform>关键图像尺寸不同：按顺序分为 %n 个序列显示。</numerusform>
        </translation>
    </message>
    <message>
        <source>Key images ({0}/{1})</source>
        <translation>关键图像（{0}/{1}）</translation>
    </message>
    <message>
        <source>None of the key images is in the archive.</source>
        <translation>关键图像均不在本地档案库中。</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
</context>
<context>
    <name>ListenerController</name>
    <message>
        <source>The DICOM listener is not available in this build (%s).</source>
        <translation>此版本中 DICOM 监听不可用（%s）。</translation>
    </message>
    <message>
        <source>%s starting…</source>
        <translation>%s 正在启动…</translation>
    </message>
    <message>
        <source>%s listening</source>
        <translation>%s 正在监听</translation>
    </message>
    <message>
        <source>%s stopped</source>
        <translation>%s 已停止</translation>
    </message>
    <message>
        <source>Incoming association #%d from %s</source>
        <translation>传入关联 #%d，来自 %s</translation>
    </message>
    <message numerus="yes">
        <source>%n received</source>
        <translation>
            <numerusform>已接收 %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, %n failed</source>
        <translation>
            <numerusform>，失败 %n</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MPRWindow</name>
    <message>
        <source>Axial</source>
        <translation>轴位</translation>
    </message>
    <message>
        <source>Coronal</source>
        <translation>冠状位</translation>
    </message>
    <message>
        <source>Sagittal</source>
        <translation>矢状位</translation>
    </message>
    <message>
        <source>Average</source>
        <translation>平均密度投影</translation>
    </message>
    <message>
        <source>MIP</source>
        <translation>最大密度投影 (MIP)</translation>
    </message>
    <message>
        <source>MinIP</source>
        <translation>最小密度投影 (MinIP)</translation>
    </message>
    <message>
        <source>MPR — %1</source>
        <translation>多平面重建 — %1</translation>
    </message>
    <message>
        <source>MPR</source>
        <translation>多平面重建 (MPR)</translation>
    </message>
    <message>
        <source>Building the volume…</source>
        <translation>正在构建容积数据…</translation>
    </message>
    <message>
        <source>Slab</source>
        <translation>层块</translation>
    </message>
    <message>
        <source>mm</source>
        <translation>mm</translation>
    </message>
    <message>
        <source>Slab thickness (0: a single plane)</source>
        <translation>层块厚度（0：单一平面）</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <source>Crosshair to the volume&apos;s centre, planes back to axial/coronal/sagittal</source>
        <translation>十字线回到容积中心，平面恢复为轴位/冠状位/矢状位</translation>
    </message>
    <message>
        <source>Time point</source>
        <translation>时相</translation>
    </message>
    <message>
        <source>Time point of a 4D series shown in the three planes and the 3D view</source>
        <translation>三个平面和三维视图中显示的 4D 序列时相</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>MPR is not possible for this series: %1</source>
        <translation>此序列无法进行多平面重建：%1</translation>
    </message>
    <message>
        <source>Building time point %1…</source>
        <translation>正在构建时相 %1…</translation>
    </message>
    <message>
        <source>Time point not shown: %1</source>
        <translation>无法显示该时相：%1</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Workstation — %s</source>
        <translation>工作站 — %s</translation>
    </message>
    <message>
        <source>Local database</source>
        <translation>本地数据库</translation>
    </message>
    <message>
        <source>Query/Retrieve</source>
        <translation>查询/调阅</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Priors</source>
        <translation>既往检查</translation>
    </message>
    <message>
        <source>Search failed</source>
        <translation>搜索失败</translation>
    </message>
    <message>
        <source>%s stopped</source>
        <translation>%s 已停止</translation>
    </message>
    <message>
        <source>Import &amp;files…</source>
        <translation>导入文件(&amp;F)…</translation>
    </message>
    <message>
        <source>Import DICOM files or ZIP archives</source>
        <translation>导入 DICOM 文件或 ZIP 压缩包</translation>
    </message>
    <message>
        <source>Import f&amp;older…</source>
        <translation>导入文件夹(&amp;O)…</translation>
    </message>
    <message>
        <source>Import every DICOM file under a folder</source>
        <translation>导入文件夹下的所有 DICOM 文件</translation>
    </message>
    <message>
        <source>Import &amp;CD/DVD…</source>
        <translation>导入光盘(&amp;C)…</translation>
    </message>
    <message>
        <source>Import from a mounted disc with a DICOMDIR</source>
        <translation>从已挂载的含 DICOMDIR 的光盘导入</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Open in viewer</source>
        <translation>在阅片器中打开(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Send to…</source>
        <translation>发送到(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Delete…</source>
        <translation>删除(&amp;D)…</translation>
    </message>
    <message>
        <source>Show &amp;tags</source>
        <translation>显示标签(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Reveal files</source>
        <translation>显示文件位置(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Export…</source>
        <translation>导出(&amp;E)…</translation>
    </message>
    <message>
        <source>Export to a folder, a ZIP or a DICOMDIR folder, optionally de-identified</source>
        <translation>导出到文件夹、ZIP 或 DICOMDIR 文件夹，可选去标识化</translation>
    </message>
    <message>
        <source>&amp;Find</source>
        <translation>查找(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>刷新(&amp;R)</translation>
    </message>
    <message>
        <source>Local &amp;database</source>
        <translation>本地数据库(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Query/Retrieve</source>
        <translation>查询/调阅(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Nodes…</source>
        <translation>节点(&amp;N)…</translation>
    </message>
    <message>
        <source>Restart &amp;listener</source>
        <translation>重启监听(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;About</source>
        <translation>关于(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Network</source>
        <translation>网络(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>The licence texts are in %s.</source>
        <translation>许可证文本位于 %s。</translation>
    </message>
    <message>
        <source>The licence texts come with each installed package.</source>
        <translation>许可证文本随各已安装的软件包提供。</translation>
    </message>
    <message>
        <source>About Workstation</source>
        <translation>关于工作站</translation>
    </message>
    <message>
        <source>&lt;b&gt;Workstation %1&lt;/b&gt; — an open DICOM workstation: local archive, viewer, DICOM node. Qt %2.</source>
        <translation>&lt;b&gt;工作站 %1&lt;/b&gt; — 开放的 DICOM 影像工作站：本地影像库、阅片器、DICOM 节点。Qt %2。</translation>
    </message>
    <message>
        <source>Component</source>
        <translation>组件</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <source>%s: error</source>
        <translation>%s：错误</translation>
    </message>
    <message numerus="yes">
        <source>%n received today</source>
        <translation>
            <numerusform>今日已接收 %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n job(s) running</source>
        <translation>
            <numerusform>%n 个任务运行中</numerusform>
        </translation>
    </message>
    <message>
        <source>Retrieve failed</source>
        <translation>调阅失败</translation>
    </message>
    <message>
        <source>The retrieve failed.</source>
        <translation>调阅失败。</translation>
    </message>
    <message>
        <source>Import files</source>
        <translation>导入文件</translation>
    </message>
    <message>
        <source>Import folder</source>
        <translation>导入文件夹</translation>
    </message>
    <message>
        <source>Import CD/DVD</source>
        <translation>导入光盘</translation>
    </message>
    <message>
        <source>No mounted disc or drive with a DICOMDIR was found. Insert the disc, wait until it is mounted, and try again — or use Import folder… to pick the disc&apos;s folder yourself.</source>
        <translation>未找到已挂载的含 DICOMDIR 的光盘或驱动器。请放入光盘，待其挂载后重试；或使用“导入文件夹…”自行选择光盘的文件夹。</translation>
    </message>
    <message>
        <source>Looked in: %s</source>
        <translation>已查找：%s</translation>
    </message>
    <message>
        <source>Several media have a DICOMDIR; import which?</source>
        <translation>多个介质含有 DICOMDIR，导入哪一个？</translation>
    </message>
    <message>
        <source>DICOM media found</source>
        <translation>发现 DICOM 介质</translation>
    </message>
    <message>
        <source>A disc or drive with DICOM images was mounted:
%s

Import it into the local database?</source>
        <translation>已挂载含 DICOM 影像的光盘或驱动器：
%s

导入到本地数据库吗？</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Not now</source>
        <translation>暂不</translation>
    </message>
    <message numerus="yes">
        <source>%n item(s)</source>
        <translation>
            <numerusform>%n 项</numerusform>
        </translation>
    </message>
    <message>
        <source>Import %s</source>
        <translation>导入 %s</translation>
    </message>
    <message>
        <source>Importing %s…</source>
        <translation>正在导入 %s…</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>导入失败</translation>
    </message>
    <message>
        <source>Cannot open the study</source>
        <translation>无法打开检查</translation>
    </message>
    <message>
        <source>Cannot open the studies</source>
        <translation>无法打开这些检查</translation>
    </message>
    <message>
        <source>Cannot open the series</source>
        <translation>无法打开序列</translation>
    </message>
    <message>
        <source>Nothing to show</source>
        <translation>没有可显示的内容</translation>
    </message>
    <message>
        <source>The selection has no files in the archive.</source>
        <translation>所选内容在影像库中没有文件。</translation>
    </message>
    <message>
        <source>The viewer could not open</source>
        <translation>阅片器无法打开</translation>
    </message>
    <message>
        <source>Open in viewer</source>
        <translation>在阅片器中打开</translation>
    </message>
    <message>
        <source>Key images</source>
        <translation>关键图像</translation>
    </message>
    <message>
        <source>Send %1 to</source>
        <translation>发送 %1 到</translation>
    </message>
    <message>
        <source>Choose node…</source>
        <translation>选择节点…</translation>
    </message>
    <message>
        <source>Show tags</source>
        <translation>显示标签</translation>
    </message>
    <message>
        <source>Reveal files</source>
        <translation>显示文件位置</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>No remote node is configured: add one with Network ▸ Nodes… first.</source>
        <translation>尚未配置远程节点：请先通过“网络 ▸ 节点…”添加。</translation>
    </message>
    <message>
        <source>Send to</source>
        <translation>发送到</translation>
    </message>
    <message>
        <source>Send %1 to:</source>
        <translation>发送 %1 到：</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <comment>a selection and its images: 1 study (340 images)</comment>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Send %1 to %2</source>
        <translation>发送 %1 到 %2</translation>
    </message>
    <message>
        <source>Send failed</source>
        <translation>发送失败</translation>
    </message>
    <message>
        <source>Send report</source>
        <translation>发送报告</translation>
    </message>
    <message>
        <source>(no name)</source>
        <translation>（无姓名）</translation>
    </message>
    <message>
        <source>Delete the study of %1 with %2 and %3 from the archive?</source>
        <comment>who, series, images</comment>
        <translation>从影像库中删除 %1 的检查（%2，%3）吗？</translation>
    </message>
    <message>
        <source>Delete %1 with %2 and %3 from the archive?</source>
        <comment>studies, series, images</comment>
        <translation>从影像库中删除 %1（%2，%3）吗？</translation>
    </message>
    <message>
        <source>Delete %1 with %2 from the archive?</source>
        <comment>series, images</comment>
        <translation>从影像库中删除 %1（%2）吗？</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Managed files are removed; linked files stay.</source>
        <translation>受管理的文件将被删除；链接的文件保留。</translation>
    </message>
    <message>
        <source>Delete %1</source>
        <translation>删除 %1</translation>
    </message>
    <message>
        <source>Delete failed</source>
        <translation>删除失败</translation>
    </message>
    <message>
        <source>No file found for the selection.</source>
        <translation>所选内容没有找到文件。</translation>
    </message>
    <message>
        <source>Export %s</source>
        <translation>导出 %s</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Choose where to export to.</source>
        <translation>请选择导出位置。</translation>
    </message>
    <message>
        <source>Export to %s</source>
        <translation>导出到 %s</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Export report</source>
        <translation>导出报告</translation>
    </message>
    <message>
        <source>No file manager could open %s.</source>
        <translation>没有文件管理器能打开 %s。</translation>
    </message>
</context>
<context>
    <name>Measurement</name>
    <message>
        <source>at detector</source>
        <translation>探测器平面</translation>
    </message>
    <message>
        <source>magnification corrected ÷{0:g}</source>
        <translation>已校正放大率 ÷{0:g}</translation>
    </message>
    <message>
        <source>calibrated, {0}</source>
        <translation>已校准，{0}</translation>
    </message>
    <message>
        <source>calibrated</source>
        <translation>已校准</translation>
    </message>
    <message>
        <source>manual calibration</source>
        <translation>手动校准</translation>
    </message>
    <message>
        <source>crosses ultrasound regions: not calibrated</source>
        <translation>跨越超声区域：未校准</translation>
    </message>
    <message>
        <source>outside the calibrated ultrasound regions</source>
        <translation>位于已校准的超声区域之外</translation>
    </message>
    <message>
        <source>no spacing</source>
        <translation>无像素间距</translation>
    </message>
    <message>
        <source>{0:.1f} mm ({1})</source>
        <translation>{0:.1f} mm（{1}）</translation>
    </message>
    <message>
        <source>{0:.1f} mm</source>
        <translation>{0:.1f} mm</translation>
    </message>
    <message>
        <source>Δ {0:.3g} {1}, Δ {2:.3g} {3}</source>
        <translation>Δ {0:.3g} {1}，Δ {2:.3g} {3}</translation>
    </message>
    <message>
        <source>{0:.1f} px ({1})</source>
        <translation>{0:.1f} 像素（{1}）</translation>
    </message>
    <message>
        <source>area {0:.1f} {1} ({2})</source>
        <translation>面积 {0:.1f} {1}（{2}）</translation>
    </message>
    <message>
        <source>area {0:.1f} {1}</source>
        <translation>面积 {0:.1f} {1}</translation>
    </message>
    <message>
        <source>mean {0:.1f}{1}  SD {2:.1f}
min {3:.0f}  max {4:.0f}
{5}</source>
        <translation>均值 {0:.1f}{1}  标准差 {2:.1f}
最小 {3:.0f}  最大 {4:.0f}
{5}</translation>
    </message>
    <message>
        <source>RGB {0}</source>
        <translation>RGB {0}</translation>
    </message>
    <message>
        <source>{0:.1f}°</source>
        <translation>{0:.1f}°</translation>
    </message>
    <message>
        <source>Cobb {0:.1f}°</source>
        <translation>Cobb 角 {0:.1f}°</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>Angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <source>Rectangle ROI</source>
        <translation>矩形 ROI</translation>
    </message>
    <message>
        <source>Ellipse ROI</source>
        <translation>椭圆 ROI</translation>
    </message>
    <message>
        <source>Polygon ROI</source>
        <translation>多边形 ROI</translation>
    </message>
    <message>
        <source>Freehand ROI</source>
        <translation>手绘 ROI</translation>
    </message>
    <message>
        <source>Arrow</source>
        <translation>箭头</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文字</translation>
    </message>
    <message>
        <source>Point</source>
        <translation>点</translation>
    </message>
    <message>
        <source>Cobb angle</source>
        <translation>Cobb 角</translation>
    </message>
</context>
<context>
    <name>NodeChooser</name>
    <message>
        <source>No node</source>
        <translation>无节点</translation>
    </message>
    <message>
        <source>Choose node(s)…</source>
        <translation>选择节点…</translation>
    </message>
    <message numerus="yes">
        <source>All %n nodes: </source>
        <translation>
            <numerusform>全部 %n 个节点：</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>NodesDialog</name>
    <message>
        <source>DICOM nodes</source>
        <translation>DICOM 节点</translation>
    </message>
    <message>
        <source>C-MOVE (node sends to our listener)</source>
        <translation>C-MOVE（节点发送到本机监听）</translation>
    </message>
    <message>
        <source>C-GET (same association)</source>
        <translation>C-GET（同一关联）</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>AE title</source>
        <translation>AE 标题</translation>
    </message>
    <message>
        <source>Host</source>
        <translation>主机</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>Retrieve by</source>
        <translation>调阅方式</translation>
    </message>
    <message>
        <source>Search this node for the patient&apos;s prior studies</source>
        <translation>在此节点搜索患者的既往检查</translation>
    </message>
    <message>
        <source>Retrieve relevant priors automatically</source>
        <translation>自动调阅相关既往检查</translation>
    </message>
    <message>
        <source>Priors</source>
        <translation>既往检查</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Update</source>
        <translation>更新</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Echo</source>
        <translation>连通测试</translation>
    </message>
    <message>
        <source>A node named %s already exists; use Update.</source>
        <translation>已存在名为 %s 的节点；请使用“更新”。</translation>
    </message>
    <message>
        <source>Another node is named %s.</source>
        <translation>另一个节点已命名为 %s。</translation>
    </message>
    <message>
        <source>Echoing %s…</source>
        <translation>正在测试 %s…</translation>
    </message>
    <message>
        <source>Echo OK — round trip %.0f ms</source>
        <translation>连通正常 — 往返 %.0f 毫秒</translation>
    </message>
    <message>
        <source>Echo failed: %s</source>
        <translation>连通测试失败：%s</translation>
    </message>
</context>
<context>
    <name>Overlay</name>
    <message>
        <source>Im {0}/{1}</source>
        <translation>图 {0}/{1}</translation>
    </message>
    <message>
        <source>Im {0}/{1} (#{2})</source>
        <translation>图 {0}/{1}（#{2}）</translation>
    </message>
    <message>
        <source>window</source>
        <translation>窗宽窗位</translation>
    </message>
    <message>
        <source>zoom</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>pan</source>
        <translation>平移</translation>
    </message>
    <message>
        <source>distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <source>rectangle</source>
        <translation>矩形</translation>
    </message>
    <message>
        <source>ellipse</source>
        <translation>椭圆</translation>
    </message>
    <message>
        <source>probe</source>
        <translation>像素值探针</translation>
    </message>
    <message>
        <source>polygon</source>
        <translation>多边形</translation>
    </message>
    <message>
        <source>freehand</source>
        <translation>手绘</translation>
    </message>
    <message>
        <source>arrow</source>
        <translation>箭头</translation>
    </message>
    <message>
        <source>text</source>
        <translation>文字</translation>
    </message>
    <message>
        <source>point</source>
        <translation>点</translation>
    </message>
    <message>
        <source>Cobb angle</source>
        <translation>Cobb 角</translation>
    </message>
    <message>
        <source>calibrate</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>crosshair</source>
        <translation>十字线</translation>
    </message>
    <message>
        <source>Se %1</source>
        <translation>序列 %1</translation>
    </message>
    <message>
        <source>Loc %1 mm</source>
        <translation>层面位置 %1 mm</translation>
    </message>
    <message>
        <source>Thk %1 mm</source>
        <translation>层厚 %1 mm</translation>
    </message>
    <message>
        <source>stored %1</source>
        <translation>存储值 %1</translation>
    </message>
    <message>
        <source>pos %1 mm</source>
        <translation>位置 %1 mm</translation>
    </message>
    <message>
        <source>inv</source>
        <translation>反相</translation>
    </message>
    <message>
        <source>W %1  L %2</source>
        <translation>窗宽 %1  窗位 %2</translation>
    </message>
    <message>
        <source>Zoom %1%</source>
        <translation>缩放 %1%</translation>
    </message>
    <message>
        <source>rot %1°</source>
        <translation>旋转 %1°</translation>
    </message>
    <message>
        <source>Cine %1 fps</source>
        <translation>电影 %1 帧/秒</translation>
    </message>
    <message>
        <source>cannot decode</source>
        <translation>无法解码</translation>
    </message>
    <message>
        <source>loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <source>unlinked</source>
        <translation>未同步</translation>
    </message>
    <message>
        <source>Tool: %1</source>
        <translation>工具：%1</translation>
    </message>
    <message>
        <source>Current %1</source>
        <translation>当前 %1</translation>
    </message>
    <message>
        <source>Later study %1</source>
        <translation>后续检查 %1</translation>
    </message>
    <message>
        <source>Prior %1</source>
        <translation>既往 %1</translation>
    </message>
    <message>
        <source>US region</source>
        <translation>超声区域</translation>
    </message>
    <message>
        <source>Image %1 cannot be displayed.</source>
        <translation>图像 %1 无法显示。</translation>
    </message>
</context>
<context>
    <name>PSLayers</name>
    <message>
        <source>overlay %1 (in neither the PS nor the image)</source>
        <translation>覆盖层 %1（呈现状态和图像中均无）</translation>
    </message>
    <message>
        <source>true size at this screen&apos;s %1 dpi</source>
        <translation>按本屏幕 %1 dpi 显示实际尺寸</translation>
    </message>
    <message>
        <source>true size (screen size unknown): fitted</source>
        <translation>实际尺寸（屏幕尺寸未知）：已适应窗口</translation>
    </message>
</context>
<context>
    <name>PresentationStates</name>
    <message>
        <source>Presentation states are saved for series opened from the archive</source>
        <translation>仅对从存档打开的序列保存显示状态</translation>
    </message>
    <message>
        <source>displayed area pixel aspect ratio</source>
        <translation>显示区域像素宽高比</translation>
    </message>
    <message>
        <source>modality LUT</source>
        <translation>模态 LUT</translation>
    </message>
    <message>
        <source>presentation LUT</source>
        <translation>显示 LUT</translation>
    </message>
    <message>
        <source>(no label)</source>
        <translation>（无标签）</translation>
    </message>
    <message>
        <source>PS %1</source>
        <translation>显示状态 %1</translation>
    </message>
    <message>
        <source>not shown: %1</source>
        <translation>未显示：%1</translation>
    </message>
    <message numerus="yes">
        <source>Presentation state saved in the archive (%n mark(s))</source>
        <translation>
            <numerusform>显示状态已保存到存档（%n 个标记）</numerusform>
        </translation>
    </message>
    <message>
        <source>Presentation state not saved: %1</source>
        <translation>显示状态未保存：%1</translation>
    </message>
    <message>
        <source>No presentation states: the series is not from the archive</source>
        <translation>无显示状态：该序列不是从存档打开的</translation>
    </message>
    <message>
        <source>None (the images as stored)</source>
        <translation>无（按存储的原始图像显示）</translation>
    </message>
    <message>
        <source>Unreadable: %1</source>
        <translation>无法读取：%1</translation>
    </message>
    <message numerus="yes">
        <source>(%n image(s) not in this series)</source>
        <translation>
            <numerusform>（%n 幅图像不在此序列中）</numerusform>
        </translation>
    </message>
    <message>
        <source>No presentation state references this series</source>
        <translation>没有引用此序列的显示状态</translation>
    </message>
</context>
<context>
    <name>PriorsPanel</name>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Modality</source>
        <translation>设备类型</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图像数</translation>
    </message>
    <message>
        <source>Where</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Open with current</source>
        <translation>与当前检查一起打开</translation>
    </message>
    <message>
        <source>Open the selected study and the chosen priors side by side in one viewer window; priors only on a node are retrieved first</source>
        <translation>在同一阅片窗口中并排打开所选检查和选定的既往检查；仅在节点上的既往检查会先调阅</translation>
    </message>
    <message>
        <source>Ask the nodes again</source>
        <translation>重新查询节点</translation>
    </message>
    <message>
        <source>Select a study to see the patient&apos;s other studies.</source>
        <translation>选择一个检查以查看该患者的其他检查。</translation>
    </message>
    <message>
        <source>Looking for priors locally and on %s…</source>
        <translation>正在本地和 %s 上查找既往检查…</translation>
    </message>
    <message>
        <source>Looking for priors…</source>
        <translation>正在查找既往检查…</translation>
    </message>
    <message>
        <source>Priors could not be listed: %s</source>
        <translation>无法列出既往检查：%s</translation>
    </message>
    <message numerus="yes">
        <source>%n other study(ies) of %1 (%2)</source>
        <translation>
            <numerusform>%1（%2）的其他检查 %n 个</numerusform>
        </translation>
    </message>
    <message>
        <source>local</source>
        <translation>本地</translation>
    </message>
    <message>
        <source>On %s only: opening it retrieves it first</source>
        <translation>仅在 %s 上：打开时会先调阅</translation>
    </message>
    <message>
        <source>Same patient ID, different name: %s</source>
        <translation>患者 ID 相同，姓名不同：%s</translation>
    </message>
    <message>
        <source>%1 could not be asked: %2</source>
        <translation>无法查询 %1：%2</translation>
    </message>
    <message>
        <source>Node %s is no longer configured.</source>
        <translation>节点 %s 已不在配置中。</translation>
    </message>
    <message>
        <source>Retrieve prior %1 %2 from %3</source>
        <translation>从 %3 调阅既往检查 %1 %2</translation>
    </message>
    <message>
        <source>Retrieving the prior of %s; it opens when it has arrived.</source>
        <translation>正在调阅 %s 的既往检查；到达后将自动打开。</translation>
    </message>
    <message>
        <source>The prior could not be retrieved: %s</source>
        <translation>无法调阅该既往检查：%s</translation>
    </message>
</context>
<context>
    <name>QueryRetrievePanel</name>
    <message>
        <source>The node(s) to search: tick one or several; they are searched at once</source>
        <translation>要搜索的节点：勾选一个或多个，将同时搜索</translation>
    </message>
    <message>
        <source>Node default</source>
        <translation>节点默认</translation>
    </message>
    <message>
        <source>Patient name (Doe*)</source>
        <translation>患者姓名（Doe*）</translation>
    </message>
    <message>
        <source>Patient ID</source>
        <translation>患者 ID</translation>
    </message>
    <message>
        <source>Accession</source>
        <translation>检查号</translation>
    </message>
    <message>
        <source>Study description (*chest*)</source>
        <translation>检查描述（*chest*）</translation>
    </message>
    <message>
        <source>Modality (CT)</source>
        <translation>设备类型（CT）</translation>
    </message>
    <message>
        <source>Any date</source>
        <translation>任意日期</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>昨天</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>Range…</source>
        <translation>范围…</translation>
    </message>
    <message>
        <source>Find</source>
        <translation>查找</translation>
    </message>
    <message>
        <source>Retrieve selected</source>
        <translation>调阅所选</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>节点</translation>
    </message>
    <message>
        <source>Retrieve by</source>
        <translation>调阅方式</translation>
    </message>
    <message>
        <source>Study date</source>
        <translation>检查日期</translation>
    </message>
    <message>
        <source>Patient name</source>
        <translation>患者姓名</translation>
    </message>
    <message>
        <source>Modalities</source>
        <translation>设备类型</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图像数</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>节点</translation>
    </message>
    <message>
        <source>Local</source>
        <translation>本地</translation>
    </message>
    <message>
        <source>Retrieve</source>
        <translation>调阅</translation>
    </message>
    <message>
        <source>No remote node yet: add one with Network ▸ Nodes… (Ctrl+Shift+N).</source>
        <translation>尚无远程节点：请通过“网络 ▸ 节点…”（Ctrl+Shift+N）添加。</translation>
    </message>
    <message>
        <source>Enter what to look for and press Find (Enter).</source>
        <translation>输入要查找的内容并按“查找”（回车）。</translation>
    </message>
    <message>
        <source>Choose a node first (Network ▸ Nodes… to add one).</source>
        <translation>请先选择节点（通过“网络 ▸ 节点…”添加）。</translation>
    </message>
    <message>
        <source>Searching %s…</source>
        <translation>正在搜索 %s…</translation>
    </message>
    <message>
        <source>Find studies on %s</source>
        <translation>在 %s 上查找检查</translation>
    </message>
    <message numerus="yes">
        <source>%n study(ies) found</source>
        <translation>
            <numerusform>找到 %n 个检查</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n found</source>
        <translation>
            <numerusform>找到 %n 个</numerusform>
        </translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>failed: %s</source>
        <translation>失败：%s</translation>
    </message>
    <message>
        <source>⚠ %s: search failed: %s</source>
        <translation>⚠ %s：搜索失败：%s</translation>
    </message>
    <message>
        <source>searching…</source>
        <translation>搜索中…</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Search failed: %s</source>
        <translation>搜索失败：%s</translation>
    </message>
    <message>
        <source>Search cancelled.</source>
        <translation>搜索已取消。</translation>
    </message>
    <message numerus="yes">
        <source>%n study(ies) found on %1</source>
        <translation>
            <numerusform>在 %1 上找到 %n 个检查</numerusform>
        </translation>
    </message>
    <message>
        <source>Query failed</source>
        <translation>查询失败</translation>
    </message>
    <message numerus="yes">
        <source>%n instance(s) already in the local archive</source>
        <translation>
            <numerusform>本地影像库中已有 %n 个实例</numerusform>
        </translation>
    </message>
    <message>
        <source>local %1</source>
        <translation>本地 %1</translation>
    </message>
    <message numerus="yes">
        <source>%n instance(s) in the local archive; the node did not say how many the study has</source>
        <translation>
            <numerusform>本地影像库中有 %n 个实例；节点未告知该检查共有多少</numerusform>
        </translation>
    </message>
    <message>
        <source>◐ %1/%2</source>
        <translation>◐ %1/%2</translation>
    </message>
    <message numerus="yes">
        <source>Only %1 of the %n image(s) of this study are in the local archive</source>
        <translation>
            <numerusform>该检查共 %n 幅图像，本地影像库中仅有 %1 幅</numerusform>
        </translation>
    </message>
    <message>
        <source>Find series of %s on %s</source>
        <translation>查找 %s 的序列（%s）</translation>
    </message>
    <message numerus="yes">
        <source>%n series found</source>
        <translation>
            <numerusform>找到 %n 个序列</numerusform>
        </translation>
    </message>
    <message>
        <source>Series search failed: %s</source>
        <translation>序列搜索失败：%s</translation>
    </message>
    <message>
        <source>Select one or more studies or series to retrieve.</source>
        <translation>请选择一个或多个要调阅的检查或序列。</translation>
    </message>
    <message>
        <source>with its study</source>
        <translation>连同其检查</translation>
    </message>
    <message>
        <source>from %s</source>
        <translation>来自 %s</translation>
    </message>
    <message>
        <source>✘ node removed</source>
        <translation>✘ 节点已移除</translation>
    </message>
    <message>
        <source>series</source>
        <translation>序列</translation>
    </message>
    <message>
        <source>study</source>
        <translation>检查</translation>
    </message>
    <message>
        <source>Retrieve %s %s from %s (C-%s)</source>
        <translation>调阅 %s %s，来源 %s（C-%s）</translation>
    </message>
    <message>
        <source>waiting…</source>
        <translation>等待中…</translation>
    </message>
    <message numerus="yes">
        <source>%n retrieve(s) started; see the Activity panel.</source>
        <translation>
            <numerusform>已开始 %n 个调阅；请查看任务面板。</numerusform>
        </translation>
    </message>
    <message>
        <source>Node(s) no longer configured: %s</source>
        <translation>节点已不在配置中：%s</translation>
    </message>
    <message>
        <source>✔ done</source>
        <translation>✔ 完成</translation>
    </message>
    <message>
        <source>✘ %s</source>
        <translation>✘ %s</translation>
    </message>
</context>
<context>
    <name>ReferenceLines</name>
    <message>
        <source>3D cursor: this image has no position in the patient</source>
        <translation>三维光标：此图像没有患者坐标位置</translation>
    </message>
    <message>
        <source>3D cursor at (%1) mm</source>
        <translation>三维光标位于 (%1) mm</translation>
    </message>
    <message numerus="yes">
        <source>not within the images of %n viewport(s)</source>
        <translation>
            <numerusform>不在 %n 个视窗的图像范围内</numerusform>
        </translation>
    </message>
    <message>
        <source>Sync: the points marked in the two studies now correspond; scrolling keeps them together</source>
        <translation>同步：两次检查中标记的点现已对应，翻页时保持同步</translation>
    </message>
    <message>
        <source>Shift+click the same point in the other study to sync them there</source>
        <translation>在另一次检查中 Shift+单击同一点，即可按该点同步</translation>
    </message>
</context>
<context>
    <name>ReportDialog</name>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Retry failed</source>
        <translation>重试失败项</translation>
    </message>
</context>
<context>
    <name>SeriesPanel</name>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n 幅图像</numerusform>
        </translation>
    </message>
    <message>
        <source>No pixel data</source>
        <translation>无像素数据</translation>
    </message>
    <message>
        <source>No preview</source>
        <translation>无预览</translation>
    </message>
    <message>
        <source>No preview: %s</source>
        <translation>无预览：%s</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>The archive folder is chosen when the program starts (--data-dir).</source>
        <translation>影像库文件夹在程序启动时选择（--data-dir）。</translation>
    </message>
    <message>
        <source>Copy into the archive</source>
        <translation>复制到影像库</translation>
    </message>
    <message>
        <source>Link (index files where they are)</source>
        <translation>链接（在原位置建立索引）</translation>
    </message>
    <message>
        <source>Keep the stored copy</source>
        <translation>保留已存储的副本</translation>
    </message>
    <message>
        <source>Overwrite with the new copy</source>
        <translation>用新副本覆盖</translation>
    </message>
    <message>
        <source>empty: every syntax we can decode</source>
        <translation>留空：接受所有可解码的传输语法</translation>
    </message>
    <message>
        <source>Accept C-STORE from unknown nodes</source>
        <translation>接受来自未知节点的 C-STORE</translation>
    </message>
    <message>
        <source>Answer C-FIND/C-MOVE/C-GET from unknown nodes</source>
        <translation>响应来自未知节点的 C-FIND/C-MOVE/C-GET</translation>
    </message>
    <message>
        <source>Check that known nodes call from their host</source>
        <translation>检查已知节点是否从其主机发起</translation>
    </message>
    <message>
        <source>Require our AE title as called AE</source>
        <translation>要求被叫 AE 为本机 AE 标题</translation>
    </message>
    <message>
        <source>Local AE title</source>
        <translation>本机 AE 标题</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>Listen on address</source>
        <translation>监听地址</translation>
    </message>
    <message>
        <source>Archive folder</source>
        <translation>影像库文件夹</translation>
    </message>
    <message>
        <source>Import mode</source>
        <translation>导入方式</translation>
    </message>
    <message>
        <source>Duplicates</source>
        <translation>重复实例</translation>
    </message>
    <message>
        <source>Accepted transfer syntaxes</source>
        <translation>接受的传输语法</translation>
    </message>
    <message>
        <source>Security</source>
        <translation>安全</translation>
    </message>
    <message>
        <source>Image memory budget (of RAM)</source>
        <translation>图像内存预算（占内存比例）</translation>
    </message>
    <message>
        <source>The language of the interface; it applies at the next start</source>
        <translation>界面语言；下次启动时生效</translation>
    </message>
    <message>
        <source>Language (next start)</source>
        <translation>语言（下次启动生效）</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>StackViewport</name>
    <message>
        <source>Open document</source>
        <translation>打开文档</translation>
    </message>
    <message>
        <source>Drag a series here</source>
        <translation>将序列拖到这里</translation>
    </message>
</context>
<context>
    <name>StudyTableModel</name>
    <message>
        <source>Patient name</source>
        <translation>患者姓名</translation>
    </message>
    <message>
        <source>Patient ID</source>
        <translation>患者 ID</translation>
    </message>
    <message>
        <source>Birth date (age)</source>
        <translation>出生日期（年龄）</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>性别</translation>
    </message>
    <message>
        <source>Study date</source>
        <translation>检查日期</translation>
    </message>
    <message>
        <source>Modalities</source>
        <translation>设备类型</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Accession</source>
        <translation>检查号</translation>
    </message>
    <message>
        <source>Series</source>
        <translation>序列</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图像数</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>接收时间</translation>
    </message>
    <message>
        <source>{0}
★ This study has key images</source>
        <translation>{0}
★ 本检查有关键图像</translation>
    </message>
</context>
<context>
    <name>TagBrowser</name>
    <message>
        <source>Filter tags (name, tag or value)…</source>
        <translation>筛选标签（名称、标签号或值）…</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>VR</source>
        <translation>VR</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Cannot read: %1</source>
        <translation>无法读取：%1</translation>
    </message>
</context>
<context>
    <name>TagsDialog</name>
    <message>
        <source>Tags — %s</source>
        <translation>标签 — %s</translation>
    </message>
</context>
<context>
    <name>ThumbnailStrip</name>
    <message>
        <source>Cannot decode</source>
        <translation>无法解码</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n 幅图像</numerusform>
        </translation>
    </message>
    <message>
        <source>object</source>
        <translation>对象</translation>
    </message>
</context>
<context>
    <name>Tools</name>
    <message>
        <source>Text annotation</source>
        <translation>文字注释</translation>
    </message>
    <message>
        <source>Text:</source>
        <translation>文字：</translation>
    </message>
    <message>
        <source>Calibrate</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>The line measures {0} on the image.
Its true length in mm:</source>
        <translation>该线段在图像上测得 {0}。
其实际长度（mm）：</translation>
    </message>
    <message>
        <source>Window/level</source>
        <translation>窗宽/窗位</translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>平移</translation>
    </message>
    <message>
        <source>Probe</source>
        <translation>探针</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>Angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <source>Rectangle ROI</source>
        <translation>矩形 ROI</translation>
    </message>
    <message>
        <source>Ellipse ROI</source>
        <translation>椭圆 ROI</translation>
    </message>
    <message>
        <source>Polygon ROI</source>
        <translation>多边形 ROI</translation>
    </message>
    <message>
        <source>Freehand ROI</source>
        <translation>手绘 ROI</translation>
    </message>
    <message>
        <source>Arrow</source>
        <translation>箭头</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文字</translation>
    </message>
    <message>
        <source>Point</source>
        <translation>点</translation>
    </message>
    <message>
        <source>Cobb angle</source>
        <translation>Cobb 角</translation>
    </message>
    <message>
        <source>Calibrate (line of known length)</source>
        <translation>校准（已知长度的线段）</translation>
    </message>
    <message>
        <source>Crosshair (3D cursor)</source>
        <translation>十字线（三维光标）</translation>
    </message>
    <message>
        <source>Polygon ROI: click each vertex; double-click, Enter or a click on the first vertex closes it (Y). Area in mm², mean/SD/min/max in the image&apos;s units</source>
        <translation>多边形 ROI：逐个单击顶点；双击、回车或单击第一个顶点闭合（Y）。面积单位 mm²，均值/标准差/最小值/最大值为图像单位</translation>
    </message>
    <message>
        <source>Freehand ROI: press and trace the outline; the release closes it (L)</source>
        <translation>手绘 ROI：按住并描绘轮廓，松开即闭合（L）</translation>
    </message>
    <message>
        <source>Arrow: press on what it points at, drag to its tail (U)</source>
        <translation>箭头：在所指处按下，拖到箭尾（U）</translation>
    </message>
    <message>
        <source>Text: click where it goes and type it (X)</source>
        <translation>文字：单击放置位置并输入文字（X）</translation>
    </message>
    <message>
        <source>Point: click; shows the value there (J)</source>
        <translation>点：单击，显示该处的值 (J)</translation>
    </message>
    <message>
        <source>Crosshair: click or drag to put the 3D cursor there - the other viewports of its Frame of Reference (in MPR the other planes) go through that point; in MPR, Ctrl+drag turns the other planes (oblique)</source>
        <translation>十字线：单击或拖动放置三维光标——同一参考坐标系的其他视窗（MPR 中为其他平面）转到经过该点的层面；在 MPR 中按住 Ctrl 拖动可旋转其他平面（斜位重建）</translation>
    </message>
    <message>
        <source>Cobb angle: drag along the first endplate, then along the second (C)</source>
        <translation>Cobb 角：先沿第一个终板拖动，再沿第二个终板拖动（C）</translation>
    </message>
    <message>
        <source>Calibrate: drag along an object of known length and type its length in mm; the series is calibrated for this session (Shift+K)</source>
        <translation>校准：沿已知长度的物体拖动并输入其长度（mm）；本次会话中该序列按此校准（Shift+K）</translation>
    </message>
    <message>
        <source>Window/level…</source>
        <translation>窗宽/窗位…</translation>
    </message>
    <message>
        <source>Type the window width and level (or the lowest and highest value shown)</source>
        <translation>输入窗宽和窗位（或显示的最低值和最高值）</translation>
    </message>
    <message>
        <source>Auto window</source>
        <translation>自动窗宽窗位</translation>
    </message>
    <message>
        <source>Window from this image&apos;s histogram: 1st to 99th percentile</source>
        <translation>根据本图像直方图设置窗宽窗位：第 1 至第 99 百分位</translation>
    </message>
    <message>
        <source>Copy measurement values</source>
        <translation>复制测量值</translation>
    </message>
    <message>
        <source>Copy the selected measurement&apos;s values (or every measurement on the image) as text</source>
        <translation>以文本复制所选测量的数值（或图像上的所有测量）</translation>
    </message>
    <message>
        <source>Delete measurement</source>
        <translation>删除测量</translation>
    </message>
    <message>
        <source>Delete the selected measurement (click one to select it)</source>
        <translation>删除所选测量（单击测量以选中）</translation>
    </message>
    <message>
        <source>Remove manual calibration</source>
        <translation>移除手动校准</translation>
    </message>
    <message>
        <source>Measure this series with the file&apos;s own spacing again</source>
        <translation>恢复按文件自身的像素间距测量此序列</translation>
    </message>
    <message>
        <source>{0}  (W {1:g} L {2:g})</source>
        <translation>{0}  （窗宽 {1:g} 窗位 {2:g}）</translation>
    </message>
    <message>
        <source>From the file</source>
        <translation>来自文件</translation>
    </message>
    <message>
        <source>Annotate</source>
        <translation>标注</translation>
    </message>
    <message>
        <source>Polygon and freehand ROIs, arrow, text, point, Cobb angle, calibration</source>
        <translation>多边形和手绘 ROI、箭头、文字、点、Cobb 角、校准</translation>
    </message>
</context>
<context>
    <name>View3D</name>
    <message>
        <source>Bone</source>
        <translation>骨窗</translation>
    </message>
    <message>
        <source>Soft tissue</source>
        <translation>软组织</translation>
    </message>
    <message>
        <source>Angio</source>
        <translation>血管窗</translation>
    </message>
    <message>
        <source>MIP</source>
        <translation>最大密度投影 (MIP)</translation>
    </message>
    <message>
        <source>R–L</source>
        <translation>右–左</translation>
    </message>
    <message>
        <source>A–P</source>
        <translation>前–后</translation>
    </message>
    <message>
        <source>I–S</source>
        <translation>下–上</translation>
    </message>
    <message>
        <source>3D: rendering…</source>
        <translation>三维：正在渲染…</translation>
    </message>
    <message>
        <source>Clip</source>
        <translation>裁剪</translation>
    </message>
    <message>
        <source>Clip box: keep only what lies between the limits along each axis</source>
        <translation>裁剪框：仅保留各轴上下限之间的部分</translation>
    </message>
    <message>
        <source>Clip box limits along %1 (mm)</source>
        <translation>裁剪框沿 %1 方向的范围（mm）</translation>
    </message>
    <message>
        <source>3D view not available: %1</source>
        <translation>三维视图不可用：%1</translation>
    </message>
</context>
<context>
    <name>ViewerMenus</name>
    <message>
        <source>Previous / next image</source>
        <translation>上一幅 / 下一幅图像</translation>
    </message>
    <message>
        <source>10 images back / forward</source>
        <translation>后退 / 前进 10 幅图像</translation>
    </message>
    <message>
        <source>First / last image</source>
        <translation>第一幅 / 最后一幅图像</translation>
    </message>
    <message>
        <source>Window presets</source>
        <translation>窗宽窗位预设</translation>
    </message>
    <message>
        <source>Cancel the measurement being drawn, else deselect it</source>
        <translation>取消正在绘制的测量，否则取消选中</translation>
    </message>
    <message>
        <source>Right button drag</source>
        <translation>右键拖动</translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>Middle button drag</source>
        <translation>中键拖动</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>平移</translation>
    </message>
    <message>
        <source>Double-click (W/L, zoom, pan, probe)</source>
        <translation>双击（窗宽窗位、缩放、平移、探针工具时）</translation>
    </message>
    <message>
        <source>Maximise the viewport in its layout, and back</source>
        <translation>在布局中最大化视口，再次双击恢复</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>阅片器</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>导出 PNG…</translation>
    </message>
    <message>
        <source>Copy image</source>
        <translation>复制图像</translation>
    </message>
    <message>
        <source>Save presentation state</source>
        <translation>保存显示状态</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Layout</source>
        <translation>布局</translation>
    </message>
    <message>
        <source>Next hanging protocol</source>
        <translation>下一个挂片协议</translation>
    </message>
    <message>
        <source>Save layout as protocol…</source>
        <translation>将布局保存为挂片协议…</translation>
    </message>
    <message>
        <source>Maximise viewport	Double-click</source>
        <translation>最大化视口	双击</translation>
    </message>
    <message>
        <source>Full screen</source>
        <translation>全屏</translation>
    </message>
    <message>
        <source>Reset view</source>
        <translation>重置视图</translation>
    </message>
    <message>
        <source>Fit to window</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <source>Actual pixels (1:1)</source>
        <translation>实际像素（1:1）</translation>
    </message>
    <message>
        <source>Invert</source>
        <translation>反相</translation>
    </message>
    <message>
        <source>Rotate right</source>
        <translation>向右旋转</translation>
    </message>
    <message>
        <source>Rotate left</source>
        <translation>向左旋转</translation>
    </message>
    <message>
        <source>Flip horizontally</source>
        <translation>水平翻转</translation>
    </message>
    <message>
        <source>Flip vertically</source>
        <translation>垂直翻转</translation>
    </message>
    <message>
        <source>Annotations</source>
        <translation>四角信息</translation>
    </message>
    <message>
        <source>Overlay planes</source>
        <translation>叠加平面</translation>
    </message>
    <message>
        <source>Sync parallel stacks</source>
        <translation>同步平行图像栈</translation>
    </message>
    <message>
        <source>Reference lines</source>
        <translation>参考线</translation>
    </message>
    <message>
        <source>MPR…</source>
        <translation>多平面重建 (MPR)…</translation>
    </message>
    <message>
        <source>Presentation states…</source>
        <translation>显示状态…</translation>
    </message>
    <message>
        <source>Unlink / link this viewport</source>
        <translation>解除 / 恢复此视口的同步</translation>
    </message>
    <message>
        <source>Tag browser</source>
        <translation>标签浏览器</translation>
    </message>
    <message>
        <source>Cine</source>
        <translation>电影回放</translation>
    </message>
    <message>
        <source>Play / stop</source>
        <translation>播放 / 停止</translation>
    </message>
    <message>
        <source>Faster</source>
        <translation>加快</translation>
    </message>
    <message>
        <source>Slower</source>
        <translation>减慢</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Window</source>
        <translation>窗宽窗位(&amp;W)</translation>
    </message>
    <message>
        <source>Presets</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Automatic window</source>
        <translation>自动窗宽窗位</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Keyboard shortcuts…</source>
        <translation>键盘快捷键…</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Image</source>
        <translation>图像</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Menu</source>
        <translation>菜单</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>按键</translation>
    </message>
</context>
<context>
    <name>ViewerWindow</name>
    <message>
        <source>W/L</source>
        <translation>窗宽/窗位</translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>平移</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>Angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <source>Rectangle</source>
        <translation>矩形</translation>
    </message>
    <message>
        <source>Ellipse</source>
        <translation>椭圆</translation>
    </message>
    <message>
        <source>Probe</source>
        <translation>探针</translation>
    </message>
    <message>
        <source>Window/level: drag right to widen the window, down to raise the level (W)</source>
        <translation>窗宽/窗位：向右拖动增大窗宽，向下拖动提高窗位（W）</translation>
    </message>
    <message>
        <source>Zoom: drag up/down (right button anywhere) (Z)</source>
        <translation>缩放：上下拖动（任意位置按住右键亦可）（Z）</translation>
    </message>
    <message>
        <source>Pan: drag the image (middle button anywhere) (P)</source>
        <translation>平移：拖动图像（任意位置按住中键亦可）（P）</translation>
    </message>
    <message>
        <source>Distance: drag from one end to the other (D). Click a measurement to select it, Delete removes it</source>
        <translation>距离：从一端拖动到另一端（D）。单击测量可选中，Delete 键删除</translation>
    </message>
    <message>
        <source>Angle: click the end of the first arm, the vertex, then the end of the second arm — or drag the first arm (end to vertex) and click the second arm&apos;s end (G). Esc cancels. Click a measurement to select it, Delete removes it</source>
        <translation>角度：依次单击第一条边的端点、顶点、第二条边的端点；或拖出第一条边（端点到顶点）再单击第二条边的端点（G）。Esc 取消。单击测量可选中，Delete 键删除</translation>
    </message>
    <message>
        <source>Rectangle ROI: drag corner to corner; shows mean/SD/min/max/area (T). Click its outline to select it, Delete removes it</source>
        <translation>矩形 ROI：从一角拖到对角，显示均值/标准差/最小值/最大值/面积（T）。单击轮廓可选中，Delete 键删除</translation>
    </message>
    <message>
        <source>Ellipse ROI: drag the bounding box; shows mean/SD/min/max/area (E). Click its outline to select it, Delete removes it</source>
        <translation>椭圆 ROI：拖出外接矩形，显示均值/标准差/最小值/最大值/面积（E）。单击轮廓可选中，Delete 键删除</translation>
    </message>
    <message>
        <source>Probe: the pixel value under the cursor is shown bottom left</source>
        <translation>探针：光标处的像素值显示在左下角</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Series</source>
        <translation>序列</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Opening…</source>
        <translation>正在打开…</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <source>Cannot open: {0}</source>
        <translation>无法打开：{0}</translation>
    </message>
    <message>
        <source>Cannot open these files:</source>
        <translation>无法打开以下文件：</translation>
    </message>
    <message numerus="yes">
        <source>%n series</source>
        <translation>
            <numerusform>%n 个序列</numerusform>
        </translation>
    </message>
    <message>
        <source>That series is no longer open: open it from the study list.</source>
        <translation>该序列已不再打开：请从检查列表中打开。</translation>
    </message>
    <message>
        <source>Cannot open the series:
{0}</source>
        <translation>无法打开序列：
{0}</translation>
    </message>
    <message>
        <source>The dropped series could not be opened.</source>
        <translation>拖入的序列无法打开。</translation>
    </message>
    <message>
        <source>Viewport linked to sync</source>
        <translation>视口已加入同步</translation>
    </message>
    <message>
        <source>Viewport unlinked: it no longer follows the others</source>
        <translation>视口已解除同步：不再跟随其他视口</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>阅片器</translation>
    </message>
    <message>
        <source>Presets</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Invert</source>
        <translation>反相</translation>
    </message>
    <message>
        <source>Rotate</source>
        <translation>旋转</translation>
    </message>
    <message>
        <source>Flip H</source>
        <translation>水平翻转</translation>
    </message>
    <message>
        <source>Flip V</source>
        <translation>垂直翻转</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>适应</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>1:1</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>fps</source>
        <translation>帧/秒</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>四角信息</translation>
    </message>
    <message>
        <source>Overlay planes</source>
        <translation>叠加平面</translation>
    </message>
    <message>
        <source>Overlay planes (60xx) from the file: CAD marks, ROI outlines (Shift+O)</source>
        <translation>文件中的叠加平面（60xx）：CAD 标记、ROI 轮廓（Shift+O）</translation>
    </message>
    <message>
        <source>Sync</source>
        <translation>同步</translation>
    </message>
    <message>
        <source>Sync: parallel stacks follow the slice being read - by patient position within one Frame of Reference; across studies with the distance between the slices shown when Sync is switched on</source>
        <translation>同步：平行的图像栈跟随当前阅读的层面——同一参考坐标系内按患者位置；跨检查时保持开启同步时两层面之间的距离</translation>
    </message>
    <message>
        <source>Ref lines</source>
        <translation>参考线</translation>
    </message>
    <message>
        <source>Reference lines: the plane of the image being read drawn on the other viewports of its Frame of Reference (first and last image dashed). Shift+click: 3D cursor - the others show the slice through that point</source>
        <translation>参考线：在同一参考坐标系的其他视窗上画出当前阅读图像的平面（首末层以虚线表示）。Shift+单击：三维光标——其他视窗显示经过该点的层面</translation>
    </message>
    <message>
        <source>MPR</source>
        <translation>多平面重建 (MPR)</translation>
    </message>
    <message>
        <source>MPR: axial, coronal and sagittal planes of the active series with a crosshair, oblique planes, slabs (MIP/MinIP/average) and a 3D view (M)</source>
        <translation>多平面重建：当前序列的轴位、冠状位、矢状位平面，带十字线、斜位平面、层块（MIP/MinIP/平均）及三维视图 (M)</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Include annotations?</source>
        <translation>包含四角信息和标注吗？</translation>
    </message>
    <message>
        <source>Prior %1 has arrived: in the series strip</source>
        <translation>既往检查 %1 已到达：见序列栏</translation>
    </message>
    <message>
        <source>MPR: the active viewport shows no image series</source>
        <translation>多平面重建：当前视窗未显示图像序列</translation>
    </message>
</context>
<context>
    <name>WindowLevelDialog</name>
    <message>
        <source>Window / level</source>
        <translation>窗宽 / 窗位</translation>
    </message>
    <message>
        <source>Width (W):</source>
        <translation>窗宽 (W)：</translation>
    </message>
    <message>
        <source>Level (L):</source>
        <translation>窗位 (L)：</translation>
    </message>
    <message>
        <source>Lowest value shown:</source>
        <translation>显示的最低值：</translation>
    </message>
    <message>
        <source>Highest value shown:</source>
        <translation>显示的最高值：</translation>
    </message>
    <message>
        <source>The width must be above 0.</source>
        <translation>窗宽必须大于 0。</translation>
    </message>
</context>
<context>
    <name>WindowPreset</name>
    <message>
        <source>Brain</source>
        <translation>脑窗</translation>
    </message>
    <message>
        <source>Subdural</source>
        <translation>硬膜下窗</translation>
    </message>
    <message>
        <source>Stroke</source>
        <translation>卒中窗</translation>
    </message>
    <message>
        <source>Lung</source>
        <translation>肺窗</translation>
    </message>
    <message>
        <source>Mediastinum</source>
        <translation>纵隔窗</translation>
    </message>
    <message>
        <source>Bone</source>
        <translation>骨窗</translation>
    </message>
    <message>
        <source>Liver</source>
        <translation>肝窗</translation>
    </message>
    <message>
        <source>Abdomen</source>
        <translation>腹部窗</translation>
    </message>
    <message>
        <source>Angio</source>
        <translation>血管窗</translation>
    </message>
    <message>
        <source>Auto (1-99 %)</source>
        <translation>自动（1–99 %）</translation>
    </message>
    <message>
        <source>Wide (0.1-99.9 %)</source>
        <translation>宽（0.1–99.9 %）</translation>
    </message>
    <message>
        <source>Narrow (5-95 %)</source>
        <translation>窄（5–95 %）</translation>
    </message>
    <message>
        <source>Full range</source>
        <translation>全范围</translation>
    </message>
</context>
<context>
    <name>_ExportText</name>
    <message numerus="yes">
        <source>cancelled after %n instance(s)</source>
        <translation>
            <numerusform>已导出 %n 个实例后取消</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n instance(s) exported to %1</source>
        <translation>
            <numerusform>已导出 %n 个实例到 %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n failed</source>
        <translation>
            <numerusform>失败 %n 个</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>_ImportText</name>
    <message numerus="yes">
        <source>%n imported</source>
        <translation>
            <numerusform>已导入 %n 个</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n already in the archive</source>
        <translation>
            <numerusform>%n 个已在影像库中</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n skipped</source>
        <translation>
            <numerusform>跳过 %n 个</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n rejected</source>
        <translation>
            <numerusform>拒绝 %n 个</numerusform>
        </translation>
    </message>
    <message>
        <source>(cancelled)</source>
        <translation>（已取消）</translation>
    </message>
</context>
<context>
    <name>_Plurals</name>
    <message numerus="yes">
        <source>%n item(s)</source>
        <translation>
            <numerusform>%n 项</numerusform>
        </translation>
    </message>
    <message>
        <source>Item %1</source>
        <translation>项 %1</translation>
    </message>
    <message numerus="yes">
        <source>(+%n other study(ies))</source>
        <translation>
            <numerusform>（另有 %n 个检查）</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>_SeriesText</name>
    <message numerus="yes">
        <source>… %n more line(s): Tags shows the whole content</source>
        <translation>
            <numerusform>… 还有 %n 行：“标签”中可查看完整内容</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>hanging</name>
    <message>
        <source>Save layout as protocol</source>
        <translation>将布局保存为挂片协议</translation>
    </message>
    <message>
        <source>Name of the new hanging protocol:</source>
        <translation>新挂片协议的名称：</translation>
    </message>
    <message>
        <source>Saved as protocol “%1” in %2</source>
        <translation>已保存为挂片协议“%1”，位于 %2</translation>
    </message>
</context>
</TS>
